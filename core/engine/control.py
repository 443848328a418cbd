"""What the API, the scheduler and the daemon's services need of an engine, whichever runs the work:
the in-process ``Engine`` on SQLite, or ``core.cluster``'s engine on a shared PostgreSQL store."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from callboard.core.engine.events import EventFilter
from callboard.core.engine.submission import Submitted
from callboard.core.models.api import QueueStatus
from callboard.core.models.events import EventBase
from callboard.core.models.selection import BatchOptions, Selection
from callboard.storage.faults import StoreFault


class EventFeed(Protocol):
    """Events with increasing ids that a subscriber can resume from (``core.engine.events.EventBus``
    in one process; the outbox on PostgreSQL)."""

    @property
    def last_id(self) -> int:
        """Id of the newest event, 0 before the first."""
        ...

    def publish(self, event: EventBase) -> EventBase:
        """Give the event its id and hand it to every subscriber."""
        ...

    def subscribe(
        self, last_id: int | None = None, wants: EventFilter | None = None
    ) -> AsyncGenerator[EventBase, None]:
        """Events as they come (only those ``wants`` lets through), first those after ``last_id``;
        raises ``EventsLost`` when those are gone."""
        ...


class FaultWatch(Protocol):
    """The store's fault, as the health check reports it."""

    @property
    def fault(self) -> StoreFault | None:
        """The current store fault, None while the store commits."""
        ...


class EngineControl(Protocol):
    """The engine as the API, the scheduler and the daemon's services drive it."""

    @property
    def events(self) -> EventFeed:
        """Where the engine's events are published and read."""
        ...

    @property
    def writer(self) -> FaultWatch:
        """The result writer, for its store fault."""
        ...

    @property
    def paused(self) -> bool:
        """Whether starting runs is paused."""
        ...

    async def submit(
        self,
        selection: Selection,
        options: BatchOptions | None = None,
        *,
        label: str = "",
        source: str = "cli",
        schedule_id: int | None = None,
    ) -> Submitted:
        """Create a batch of the selected tests and queue its runs (raises SelectionError)."""
        ...

    async def filled(self) -> None:
        """Wait until every submitted batch can be seen in the queue."""
        ...

    def status(self) -> QueueStatus:
        """Running, queued, paused, rate, ETA and limit usage, for the monitor."""
        ...

    def pause(self) -> None:
        """Stop starting new runs; running ones go on."""
        ...

    def resume(self) -> None:
        """Start runs again."""
        ...

    async def cancel_run(self, run_id: int) -> bool:
        """Cancel a queued or running run; False if it is neither."""
        ...

    async def cancel_batch(self, batch_id: int) -> int:
        """Cancel every queued and running run of a batch; returns how many."""
        ...

    async def wait_batch(self, batch_id: int) -> None:
        """Return once every run of the batch is final."""
        ...
