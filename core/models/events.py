"""Events the daemon publishes, each after the commit that makes it true, with increasing ids.

Clients read them from ``GET /v1/events``; ``parse_event`` turns one back into its model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from callboard.core.models.batches import RunStatus


class EventBase(BaseModel):
    """What every event has: its id and when it happened."""

    id: int = 0
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class RunQueued(EventBase):
    """Runs entered the queue (one event per batch submission, listing the run ids)."""

    type: Literal["runs.queued"] = "runs.queued"
    batch_id: int
    run_ids: list[int]


class RunStarted(EventBase):
    """A run began an attempt."""

    type: Literal["run.started"] = "run.started"
    run_id: int
    batch_id: int
    test_name: str
    attempt: int


class RunFinished(EventBase):
    """A run reached a final status (its result is committed)."""

    type: Literal["run.finished"] = "run.finished"
    run_id: int
    batch_id: int
    test_name: str
    status: RunStatus
    score: float | None = None
    duration_ms: float | None = None
    error_kind: str | None = None


class BatchProgress(EventBase):
    """How far a batch has got; sent at most a few times a second per batch."""

    type: Literal["batch.progress"] = "batch.progress"
    batch_id: int
    done: int
    total: int
    passed: int
    failed: int
    error: int
    pass_rate: float | None
    rate_per_s: float
    eta_s: float | None
    # Model tokens (prompt + completion) the batch's simulated users and judges have spent so far.
    llm_tokens: int = 0


class BatchFinished(EventBase):
    """Every run of a batch is final."""

    type: Literal["batch.finished"] = "batch.finished"
    batch_id: int
    status: str
    total: int
    passed: int
    failed: int
    error: int
    cancelled: int
    skipped: int
    pass_rate: float | None
    duration_s: float


class TestsChanged(EventBase):
    """Tests were added, changed or deleted (``how``: import, create, replace or delete): lists of
    tests should be read again."""

    __test__ = False
    type: Literal["tests.changed"] = "tests.changed"
    how: Literal["import", "create", "replace", "delete"]
    count: int


class EventsReset(EventBase):
    """The events a client asked to resume from are gone: it should re-read state from the API."""

    type: Literal["events.reset"] = "events.reset"
    reason: str = ""


AnyEvent = Annotated[
    RunQueued | RunStarted | RunFinished | BatchProgress | BatchFinished | TestsChanged | EventsReset,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(data: str | bytes) -> AnyEvent:
    """The event in a JSON text (raises pydantic.ValidationError for an unknown or malformed one)."""
    return _ADAPTER.validate_json(data)
