"""The event bus: events (``core.models.events``) get increasing ids and are kept in a bounded buffer,
so a subscriber can resume from the last id it saw.

The buffer keeps each event as its JSON text (about 200 bytes), not the model (about 1.2 kB): 10,000
buffered events were 12 MB of the daemon's memory, and only a resuming subscriber reads them back."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable

from callboard.core.models.events import EventBase, parse_event


def epoch_first_id() -> int:
    """A first event id above any a previous run of the daemon can have reached (milliseconds since
    the epoch, times 1,000), so a client resuming across a restart is told to re-sync."""
    return time.time_ns() // 1_000_000 * 1000


EventFilter = Callable[[EventBase], bool]
"""Which events a subscriber wants."""


class EventsLost(Exception):
    """The events a subscriber asked to resume from have left the buffer."""


class EventBus:
    """Publishes events to subscribers and keeps the last ``capacity`` for resuming."""

    def __init__(self, capacity: int = 10_000, subscriber_queue: int = 10_000, first_id: int = 1) -> None:
        self._ids = itertools.count(first_id)
        self._first_id = first_id
        self._buffer: deque[tuple[int, bytes]] = deque(maxlen=capacity)  # (id, the event as JSON)
        # Each subscriber's queue, and which events it wants (None: all).
        self._subscribers: dict[asyncio.Queue[EventBase | None], EventFilter | None] = {}
        self._subscriber_queue = subscriber_queue

    @property
    def last_id(self) -> int:
        """Id of the newest event, 0 before the first."""
        return self._buffer[-1][0] if self._buffer else self._first_id - 1

    def publish(self, event: EventBase) -> EventBase:
        """Give the event the next id, keep it, and hand it to every subscriber."""
        event.id = next(self._ids)
        self._buffer.append((event.id, event.__pydantic_serializer__.to_json(event)))
        for queue, wants in list(self._subscribers.items()):
            # Filtered here, an event a subscriber does not want wakes nothing (a client following a
            # batch's progress would otherwise be woken twice a run, to drop both).
            if wants is not None and not wants(event):
                continue
            if queue.qsize() >= self._subscriber_queue:
                # A subscriber this far behind is cut off (the spare slot holds the end marker);
                # it resumes from its last id.
                del self._subscribers[queue]
                queue.put_nowait(None)
                continue
            queue.put_nowait(event)
        return event

    def since(self, last_id: int) -> list[EventBase] | None:
        """Events after ``last_id``; None when some of them have already left the buffer."""
        if last_id > self.last_id:
            return None  # an id this bus never gave: the client saw an earlier life of the daemon
        if last_id == self.last_id:
            return []
        oldest = self._buffer[0][0] if self._buffer else self._first_id
        if last_id < oldest - 1:
            return None
        start = last_id - oldest + 1
        return [parse_event(data) for _, data in itertools.islice(self._buffer, start, None)]

    async def subscribe(
        self, last_id: int | None = None, wants: EventFilter | None = None
    ) -> AsyncGenerator[EventBase, None]:
        """Yield the events ``wants`` lets through (all without it) as they come, first replaying those
        after ``last_id`` when given.

        Ends when the subscriber falls too far behind (it should resume with its last id); raises
        EventsLost when events after ``last_id`` are no longer buffered (it should re-read state).
        """
        queue: asyncio.Queue[EventBase | None] = asyncio.Queue(self._subscriber_queue + 1)
        backlog = self.since(last_id) if last_id is not None else []
        if backlog is None:
            raise EventsLost(f"events after {last_id} are no longer buffered")
        self._subscribers[queue] = wants
        try:
            for event in backlog:
                if wants is None or wants(event):
                    yield event
            while True:
                queued = await queue.get()
                if queued is None:
                    return
                yield queued
        finally:
            self._subscribers.pop(queue, None)
