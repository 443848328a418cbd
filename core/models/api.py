"""The bodies of API v1: what clients send and what the daemon answers (shared by both sides)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callboard.core.models.batches import Batch, RunStatus
from callboard.core.models.selection import BatchOptions, Selection

if TYPE_CHECKING:
    from callboard.core.models.runs import Run


class _Body(BaseModel):
    # Each model's validator is built on first use, not at import: a command (``run --wait``) then
    # builds the few it reads instead of every body of the API.
    model_config = ConfigDict(defer_build=True)


class _Request(_Body):
    # A misspelt field in a request is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Body):
    """``{"error": {...}}``: a machine-readable code, a message naming the place, maybe details."""

    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(_Body):
    """Every error the API answers."""

    error: ErrorBody


class Health(_Body):
    """The daemon is up: who and where it is, and whether its store can commit (``GET /v1/health``
    answers 503 ``store_unavailable`` with this in its details when it cannot)."""

    status: Literal["ok", "store_unavailable"] = "ok"
    store_fault: str | None = None
    version: str
    api: Literal["v1"] = "v1"
    pid: int
    started_at: datetime
    state_dir: str
    socket: str


class TestSummary(_Body):
    """A test as listed: identity, target and its last result."""

    __test__ = False

    id: int
    name: str
    kind: str
    target: str
    tags: list[str]
    version: int
    skip_reason: str | None = None
    last_status: RunStatus | None = None
    last_score: float | None = None
    last_run_at: datetime | None = None


class TestList(_Body):
    """``GET /v1/tests``."""

    __test__ = False

    tests: list[TestSummary]


class TestDetail(_Body):
    """``GET /v1/tests/{id}``: the definition in suite form and its recent runs."""

    __test__ = False

    id: int
    version: int
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any]
    recent_runs: list[RunSummary] = Field(default_factory=list)


class TestDefinitions(_Body):
    """``GET /v1/tests/definitions``: tests in suite form."""

    __test__ = False

    tests: list[dict[str, Any]]


class ImportResult(_Body):
    """What an import did, by test name."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]


class BatchRequest(BatchOptions, Selection):
    """``POST /v1/batches``: the union of ids, names and tags, or all; priority and trials."""

    label: str = Field(default="", max_length=200)
    source: str = Field(
        default="api", pattern=r"^[a-z][a-z0-9_-]{0,19}$", description="Who asked: api, cli, tui…"
    )


class SkippedTest(_Body):
    """A test that will not run in a batch, and why."""

    test: str
    reason: str


class BatchCreated(_Body):
    """``202`` to ``POST /v1/batches``."""

    batch: Batch
    skipped: list[SkippedTest]


class BatchList(_Body):
    """A page of batches, newest first; pass ``next_before`` as ``before`` for the next."""

    batches: list[Batch]
    next_before: int | None = None


class RunSummary(_Body):
    """A run as listed: everything but its checks, transcript and snapshot."""

    id: int
    batch_id: int
    test_id: int | None
    test_name: str
    kind: str
    target: str
    trial: int
    status: RunStatus
    skip_reason: str | None = None
    attempt: int
    score: float | None = None
    duration_ms: float | None = None
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_kind: str | None = None
    error_message: str | None = None

    @classmethod
    def of(cls, run: Run) -> RunSummary:
        """The summary of a full run."""
        return cls.model_validate(run.model_dump(include=set(cls.model_fields)))


class RunList(_Body):
    """A page of runs, newest first; pass ``next_before`` as ``before`` for the next."""

    runs: list[RunSummary]
    next_before: int | None = None


class CancelResult(_Body):
    """How many runs a cancel stopped."""

    cancelled: int


class LimitUsage(_Body):
    """One limit: how much of it is in use."""

    in_use: int
    limit: int | None = None
    rate_per_s: float | None = None


class RunningRun(_Body):
    """A run executing now, since ``started_at``."""

    run_id: int
    batch_id: int
    test_name: str
    started_at: datetime | None = None


class QueueStatus(_Body):
    """``GET /v1/queue``: the monitor's figures."""

    running: int
    queued: int
    paused: bool
    rate_per_s: float
    eta_s: float | None = None
    concurrency: LimitUsage
    limits: dict[str, LimitUsage]
    running_runs: list[RunningRun]
    active_batches: list[Batch] = Field(default_factory=list)
    last_event_id: int = 0
    batch_eta_s: dict[int, float | None] = Field(
        default_factory=dict, description="Each running batch's ETA in seconds (null: not known yet)."
    )
    # Set while the store cannot commit: no run starts, finished results wait in memory.
    store_fault: str | None = None


class TrendPointOut(_Body):
    """One batch's figures for one test."""

    batch_id: int
    pass_rate: float
    mean_score: float | None = None


class TestTrendOut(_Body):
    """One test across recent batches; ``flaky`` when it both passed and failed at one version."""

    __test__ = False

    name: str
    points: list[TrendPointOut]
    flaky: bool = False
    flaky_version: int | None = None


class Trends(_Body):
    """``GET /v1/trends``."""

    tests: list[TestTrendOut]


class RetryRequest(BatchOptions):
    """``POST /v1/batches/{id}/retry`` and ``/v1/runs/{id}/retry``: priority and trials of the new batch."""

    failed_only: bool = False


class PruneRequest(_Request):
    """``POST /v1/maintenance/prune``: limits for this prune (default: the retention settings)."""

    days: float | None = Field(default=None, gt=0)
    max_runs: int | None = Field(default=None, ge=1)


class PruneResponse(_Body):
    """What a prune removed."""

    batches: int
    runs: int
    vacuumed: bool
