"""The summary of one batch, as ``GET /v1/batches/{id}/report`` returns it and ``callboard report``
shows it. ``callboard.core.reports.tabular.build_report`` computes it in the daemon; the client reads it
back into these same classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callboard.core.models.batches import Batch, BatchCounts, RunStatus


@dataclass(frozen=True)
class PooledLatency:
    """One test's turn latencies over its trials: how many runs and turns, the percentiles, late answers."""

    test_name: str
    runs: int
    turns: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    late_answers: int


@dataclass(frozen=True)
class ScoreBucket:
    """How many runs scored from ``low`` to ``high``: low ≤ score < high + 1, and 90–100 takes 100."""

    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        """``"0-9"``, ``"10-19"`` … ``"90-100"``."""
        return f"{self.low}-{self.high}"


@dataclass(frozen=True)
class ScoreStats:
    """The scores of the runs that have one (runs with checks that finished)."""

    count: int
    minimum: float | None
    median: float | None
    mean: float | None
    maximum: float | None
    buckets: tuple[ScoreBucket, ...]


@dataclass(frozen=True)
class SlowRun:
    """A run and how long it took."""

    run_id: int
    test_name: str
    trial: int
    duration_ms: float


@dataclass(frozen=True)
class FailureSummary:
    """Why a run did not pass: its first failed check, or its error."""

    run_id: int
    test_name: str
    trial: int
    status: RunStatus
    check_name: str | None
    expected: Any
    actual: Any
    message: str
    error_kind: str | None

    def reason(self) -> str:
        """One line: ``check: message`` (or expected vs actual), or ``error kind: message``."""
        if self.check_name is None:
            return f"{self.error_kind or 'error'}: {self.message}"
        detail = self.message or f"expected {self.expected!r}, got {self.actual!r}"
        return f"{self.check_name}: {detail}"


@dataclass(frozen=True)
class BatchReport:
    """The summary of one batch that ``callboard report`` shows.

    ``counts`` and ``pass_rate`` are computed from the runs given, so they agree with the rest of the
    report even if ``batch.counts`` was read at another moment. ``pass_rate`` is passed over
    passed + failed + error, 0–100, or None when no run has a verdict yet.
    """

    batch: Batch
    counts: BatchCounts
    pass_rate: float | None
    scores: ScoreStats
    slowest: tuple[SlowRun, ...]
    failures: tuple[FailureSummary, ...]
    total_failures: int
    # Model tokens the batch's runs spent (simulated users and judges), as the servers reported them.
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0
    # Per test, turn latencies pooled over its trials (call and voice tests with per-turn metrics).
    turn_latency: tuple[PooledLatency, ...] = ()
