"""Runs, batches and their results: what happened when tests were executed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from callboard.core.models.batches import FINAL_STATUSES, Batch, BatchCounts, BatchStatus, RunStatus
from callboard.core.models.definitions import TestDefinition
from callboard.core.models.outlines import TestOutline

__all__ = [
    "FINAL_STATUSES",
    "Batch",
    "BatchCounts",
    "BatchStatus",
    "CheckResult",
    "LastResult",
    "Run",
    "RunResult",
    "RunStatus",
    "StoredTest",
    "TranscriptEntry",
    "score",
]


class CheckResult(BaseModel):
    """The outcome of one check."""

    name: str
    passed: bool
    expected: Any = None
    actual: Any = None
    message: str = ""
    weight: float = 1.0


class TranscriptEntry(BaseModel):
    """One utterance of a conversation or call; times in seconds from the start."""

    speaker: str
    text: str
    start: float | None = None
    end: float | None = None


def score(checks: list[CheckResult]) -> float | None:
    """Weighted share of checks passed, 0–100; None when there were no checks."""
    total = sum(check.weight for check in checks)
    if total <= 0:
        return None
    return round(100.0 * sum(check.weight for check in checks if check.passed) / total, 2)


class RunResult(BaseModel):
    """What an executor reports for one attempt of one run."""

    status: RunStatus
    checks: list[CheckResult] = Field(default_factory=list)
    score: float | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    transcript: list[TranscriptEntry] = Field(default_factory=list)
    artifacts: dict[str, str] = Field(default_factory=dict)
    error_kind: str | None = None
    error_message: str | None = None
    skip_reason: str | None = None  # with status skipped: why the run was not carried out to its end


@dataclass(frozen=True, slots=True)
class StoredTest:
    """A test as the store holds it: identity and version, and the definition in compact form (an
    outline, parsed only on use: 10,000 parsed definitions were most of the daemon's memory)."""

    __test__ = False  # not a pytest class

    id: int
    version: int
    created_at: datetime
    updated_at: datetime
    outline: TestOutline

    @property
    def name(self) -> str:
        """The test's unique name."""
        return self.outline.name

    @property
    def definition(self) -> TestDefinition:
        """The parsed definition (parsed now, or from a small cache)."""
        return self.outline.definition


class LastResult(NamedTuple):
    """How a test's newest finished run ended: what the tests list shows beside each test."""

    status: RunStatus
    score: float | None
    finished_at: datetime | None


class Run(BaseModel):
    """One execution of one test, with the snapshot of the test as it ran."""

    id: int
    batch_id: int
    test_id: int | None
    test_name: str
    test_version: int
    kind: str
    target: str
    trial: int = 1
    priority: int = 0
    status: RunStatus
    skip_reason: str | None = None
    attempt: int = 0
    max_attempts: int = 1
    external_id: str | None = None
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    score: float | None = None
    checks: list[CheckResult] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    transcript: list[TranscriptEntry] = Field(default_factory=list)
    artifacts: dict[str, str] = Field(default_factory=dict)
    error_kind: str | None = None
    error_message: str | None = None
    snapshot: dict[str, Any] = Field(default_factory=dict)
