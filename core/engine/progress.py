"""Per-batch progress in memory: counts, a moving-average rate and an ETA.

The ETA is the larger of two estimates. The rate one (runs left ÷ recent finishes per second) is right
for a long stream of similar runs but reads "0s" when a few quick runs have finished and a long one is
still going. The work one adds up what is left: each running run's expected remainder (its kind's mean
duration in this batch minus its elapsed time; once past that, half its elapsed time again — a run that
has gone long tends to go longer — and never past its timeout) and, for queued runs, the batch's mean
duration; spread over the runs going at once, and never less than the longest remainder. A run with
nothing to compare with (no run of the batch has finished) gives no ETA, and while any run is left the
ETA is at least a second: never "0s" for work still going.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from callboard.core.models import BatchCounts, RunStatus

# The rate is averaged over the finishes of the last this-many seconds.
RATE_WINDOW_S = 10.0
# The least ETA while runs are left.
MIN_ETA_S = 1.0
# Durations of these runs say nothing about how long the next run takes.
_UNTIMED = (RunStatus.CANCELLED, RunStatus.SKIPPED)


@dataclass
class _Running:
    kind: str
    started: float
    timeout_s: float | None


@dataclass
class _Durations:
    """Sum and count of finished runs' durations (seconds)."""

    total_s: float = 0.0
    count: int = 0

    def add(self, seconds: float) -> None:
        self.total_s += seconds
        self.count += 1

    @property
    def mean_s(self) -> float | None:
        return self.total_s / self.count if self.count else None


@dataclass
class BatchTracker:
    """Counts of one batch as runs finish, kept so events need no database read."""

    batch_id: int
    counts: BatchCounts
    started: float = field(default_factory=time.monotonic)
    last_event: float = 0.0
    llm_tokens: int = 0  # spent by the runs this tracker has seen end (not those before a restart)
    _finishes: deque[float] = field(default_factory=deque)
    _running: dict[int, _Running] = field(default_factory=dict)
    _by_kind: dict[str, _Durations] = field(default_factory=dict)
    _all: _Durations = field(default_factory=_Durations)

    def start(
        self,
        run_id: int | None = None,
        kind: str = "",
        timeout_s: float | None = None,
        now: float | None = None,
    ) -> None:
        """One run moved from queued to running (its kind and timeout feed the ETA)."""
        self.counts.queued -= 1
        self.counts.running += 1
        if run_id is not None:
            self._running[run_id] = _Running(kind, time.monotonic() if now is None else now, timeout_s)

    def record(
        self,
        status: RunStatus,
        *,
        was_running: bool,
        now: float | None = None,
        run_id: int | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Move one run from queued or running to its final status."""
        now = time.monotonic() if now is None else now
        counts = self.counts
        if was_running:
            counts.running -= 1
        else:
            counts.queued -= 1
        setattr(counts, status.value, getattr(counts, status.value) + 1)
        self._finishes.append(now)
        running = self._running.pop(run_id, None) if run_id is not None else None
        if running is not None and duration_ms is not None and status not in _UNTIMED:
            self._by_kind.setdefault(running.kind, _Durations()).add(duration_ms / 1000)
            self._all.add(duration_ms / 1000)

    def rate_per_s(self, now: float | None = None) -> float:
        """Runs finished per second over the recent window."""
        now = time.monotonic() if now is None else now
        while self._finishes and self._finishes[0] < now - RATE_WINDOW_S:
            self._finishes.popleft()
        if not self._finishes:
            return 0.0
        span = min(RATE_WINDOW_S, max(now - self.started, 1e-3))
        return len(self._finishes) / span

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds until the batch is done (see the module docstring); None when nothing tells."""
        now = time.monotonic() if now is None else now
        remaining = self.counts.total - self.counts.done
        if remaining <= 0:
            return 0.0
        rate = self.rate_per_s(now)
        estimates = [remaining / rate] if rate > 0 else []
        work = self._work_eta(now)
        if work is not None:
            estimates.append(work)
        return max(MIN_ETA_S, *estimates) if estimates else None

    def _work_eta(self, now: float) -> float | None:
        mean = self._all.mean_s
        if mean is None:
            return None  # nothing has finished yet: no duration to go by
        lefts = [self._left(run, now, mean) for run in self._running.values()]
        work = sum(lefts) + max(0, self.counts.queued) * mean
        lanes = max(1, len(lefts))
        return max(max(lefts, default=0.0), work / lanes)

    def _left(self, run: _Running, now: float, mean: float) -> float:
        elapsed = max(0.0, now - run.started)
        durations = self._by_kind.get(run.kind)
        typical = durations.mean_s if durations and durations.mean_s is not None else mean
        left = max(typical - elapsed, elapsed / 2)
        if run.timeout_s is not None:
            left = min(left, max(0.0, run.timeout_s - elapsed))
        return left

    @property
    def finished(self) -> bool:
        """Every run is final."""
        return self.counts.done >= self.counts.total
