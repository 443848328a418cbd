"""The one reader of the daemon's event stream: it turns events into messages for whoever subscribed,
keeps the latest queue figures and whether the stream is up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message_pump import MessagePump

from callboard.core.client import ApiFailure, CallboardClient, DaemonUnavailable
from callboard.core.models.api import QueueStatus
from callboard.core.models.events import (
    AnyEvent,
    BatchFinished,
    BatchProgress,
    EventsReset,
    RunFinished,
    RunQueued,
    RunStarted,
    TestsChanged,
)
from callboard.tui.messages import (
    BatchEnded,
    BatchProgressed,
    ConnectionChanged,
    DomainMessage,
    QueueUpdated,
    Resync,
    RunChanged,
    RunsQueued,
    TestsUpdated,
)


def message_for(event: AnyEvent) -> Callable[[], DomainMessage] | None:
    """A factory of the message for ``event`` (one copy per subscriber), or None to ignore it."""
    if isinstance(event, RunStarted | RunFinished):
        return lambda: RunChanged(event)
    if isinstance(event, BatchProgress):
        return lambda: BatchProgressed(event)
    if isinstance(event, RunQueued):
        return lambda: RunsQueued(event.batch_id, event.run_ids)
    if isinstance(event, BatchFinished):
        return lambda: BatchEnded(event)
    if isinstance(event, TestsChanged):
        return TestsUpdated
    if isinstance(event, EventsReset):
        return lambda: Resync(event.reason or "events reset")
    return None


class EventFeed:
    """Posts domain messages to subscribers; ``follow`` runs as the app's one event worker."""

    def __init__(self, client: CallboardClient) -> None:
        self.client = client
        self.connected: bool | None = None
        self.queue: QueueStatus | None = None
        self._subscribers: dict[MessagePump, tuple[type[DomainMessage], ...]] = {}
        # Set once the stream's starting point is known: state read after it misses no event, since
        # every later one is replayed.
        self.started = asyncio.Event()

    def subscribe(self, pump: MessagePump, *kinds: type[DomainMessage]) -> None:
        """Post messages of ``kinds`` to ``pump`` from now on."""
        self._subscribers[pump] = kinds

    def unsubscribe(self, pump: MessagePump) -> None:
        """Stop posting to ``pump``."""
        self._subscribers.pop(pump, None)

    def publish(self, make: Callable[[], DomainMessage]) -> None:
        """Post a fresh copy of a message to every subscriber that wants its kind."""
        message = make()
        for pump, kinds in list(self._subscribers.items()):
            if isinstance(message, kinds):
                pump.post_message(message)
                message = make()

    async def refresh_queue(self) -> QueueStatus | None:
        """Read the queue figures and publish them; None when the daemon does not answer."""
        try:
            status = await self.client.queue()
        except (ApiFailure, DaemonUnavailable):
            return None
        self.set_queue(status)
        return status

    def set_queue(self, status: QueueStatus) -> None:
        """Publish queue figures got some other way (pause and resume answer with them)."""
        self.queue = status
        self.publish(lambda: QueueUpdated(status))

    async def follow(self) -> None:
        """Read the event stream for ever (it reconnects by itself) and publish what it says."""
        try:
            status = await self.refresh_queue()
        finally:
            self.started.set()  # also on failure: screens then read what they can, and say so
        stream = self.client.events(last_id=status.last_event_id if status else None)
        stream.on_connection = self._on_connection
        async for event in stream:
            make = message_for(event)
            if make is not None:
                self.publish(make)

    def _on_connection(self, connected: bool) -> None:  # noqa: FBT001 (EventStream.on_connection's callback)
        was = self.connected
        self.connected = connected
        if connected == was:
            return
        self.publish(lambda: ConnectionChanged(connected=connected))
        if connected and was is False:
            self.publish(lambda: Resync("reconnected"))
