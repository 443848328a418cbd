"""Run and batch states and a batch's counts: what a client following a batch needs, without the test
definitions (so the CLI's start-up does not build every test model)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


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
