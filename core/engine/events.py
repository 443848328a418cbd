"""Typed events with increasing ids, published only after the commit that makes them true, kept in
a bounded buffer so a subscriber can resume from the last id it saw."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from callboard.core.models import RunStatus


class _Event(BaseModel):
    id: int = 0
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class RunQueued(_Event):
    """Runs entered the queue (one event per batch submission, listing the run ids)."""

    type: Literal["runs.queued"] = "runs.queued"
    batch_id: int
    run_ids: list[int]


class RunStarted(_Event):
    """A run began an attempt."""

    type: Literal["run.started"] = "run.started"
    run_id: int
    batch_id: int
    test_name: str
    attempt: int


class RunFinished(_Event):
    """A run reached a final status (its result is committed)."""

    type: Literal["run.finished"] = "run.finished"
    run_id: int
    batch_id: int
    test_name: str
    status: RunStatus
    score: float | None = None
    duration_ms: float | None = None
    error_kind: str | None = None


class BatchProgress(_Event):
    """How far a batch has got; sent at most a few times a second per batch."""

    type: Literal["batch.progress"] = "batch.progress"
    batch_id: int
    done: int
    total: int
    passed: int
    failed: int
    errors: int
    pass_rate: float | None
    rate_per_s: float
    eta_s: float | None


class BatchFinished(_Event):
    """Every run of a batch is final."""

    type: Literal["batch.finished"] = "batch.finished"
    batch_id: int
    status: str
    total: int
    passed: int
    failed: int
    errors: int
    cancelled: int
    skipped: int
    pass_rate: float | None
    duration_s: float


Event = Annotated[
    RunQueued | RunStarted | RunFinished | BatchProgress | BatchFinished, Field(discriminator="type")
]


class EventsLost(Exception):
    """The events a subscriber asked to resume from have left the buffer."""


class EventBus:
    """Publishes events to subscribers and keeps the last ``capacity`` for resuming."""

    def __init__(self, capacity: int = 10_000, subscriber_queue: int = 10_000) -> None:
        self._ids = itertools.count(1)
        self._buffer: deque[_Event] = deque(maxlen=capacity)
        self._subscribers: set[asyncio.Queue[_Event | None]] = set()
        self._subscriber_queue = subscriber_queue

    @property
    def last_id(self) -> int:
        """Id of the newest event, 0 before the first."""
        return self._buffer[-1].id if self._buffer else 0

    def publish(self, event: _Event) -> _Event:
        """Give the event the next id, keep it, and hand it to every subscriber."""
        event.id = next(self._ids)
        self._buffer.append(event)
        for queue in list(self._subscribers):
            if queue.qsize() >= self._subscriber_queue:
                # A subscriber this far behind is cut off (the spare slot holds the end marker);
                # it resumes from its last id.
                self._subscribers.discard(queue)
                queue.put_nowait(None)
                continue
            queue.put_nowait(event)
        return event

    def since(self, last_id: int) -> list[_Event] | None:
        """Events after ``last_id``; None when some of them have already left the buffer."""
        if not self._buffer or last_id >= self._buffer[-1].id:
            return []
        if last_id < self._buffer[0].id - 1:
            return None
        start = last_id - self._buffer[0].id + 1
        return list(itertools.islice(self._buffer, start, None))

    async def subscribe(self, last_id: int | None = None) -> AsyncIterator[_Event]:
        """Yield events as they come, first replaying those after ``last_id`` when given.

        Ends when the subscriber falls too far behind (it should resume with its last id); raises
        EventsLost when events after ``last_id`` are no longer buffered (it should re-read state).
        """
        queue: asyncio.Queue[_Event | None] = asyncio.Queue(self._subscriber_queue + 1)
        backlog = self.since(last_id) if last_id is not None else []
        if backlog is None:
            raise EventsLost(f"events after {last_id} are no longer buffered")
        self._subscribers.add(queue)
        try:
            for event in backlog:
                yield event
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            self._subscribers.discard(queue)
