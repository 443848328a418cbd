"""Runs, batches and their results: what happened when tests were executed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from callboard.core.models.definitions import TestDefinition
from callboard.core.models.outlines import TestOutline


class RunStatus(StrEnum):
    """Lifecycle of a run: queued → running → one of the final states (or skipped up front)."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        """True once the run will not change any more."""
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)


FINAL_STATUSES = tuple(status for status in RunStatus if status.is_final)


class BatchStatus(StrEnum):
    """A batch is running until every run in it is final."""

    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


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


class BatchCounts(BaseModel):
    """How many runs of a batch are in each status."""

    total: int = 0
    queued: int = 0
    running: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    cancelled: int = 0
    skipped: int = 0

    @property
    def done(self) -> int:
        """Runs that are final."""
        return self.passed + self.failed + self.error + self.cancelled + self.skipped

    @property
    def pass_rate(self) -> float | None:
        """Passed over runs that produced a verdict (passed, failed, error), 0–100."""
        judged = self.passed + self.failed + self.error
        return None if judged == 0 else round(100.0 * self.passed / judged, 2)


class Batch(BaseModel):
    """One act of running tests: the runs it made and how far it has got."""

    id: int
    label: str
    source: str
    status: BatchStatus
    priority: int = 0
    created_at: datetime
    finished_at: datetime | None = None
    schedule_id: int | None = None
    selector: dict[str, Any] = Field(default_factory=dict)
    counts: BatchCounts = Field(default_factory=BatchCounts)
