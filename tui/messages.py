"""Domain messages: the event feed posts them to the screens and widgets that subscribed.

They do not bubble (each subclass says so: Textual resets ``bubble`` per class): each subscriber gets
its own copy. Messages that a later one makes obsolete say so
in ``can_replace``, so a burst is handled once.
"""

from __future__ import annotations

from textual.message import Message

from callboard.core.models.api import QueueStatus
from callboard.core.models.events import BatchFinished, BatchProgress, RunFinished, RunStarted


class DomainMessage(Message, bubble=False):
    """Base of the messages the feed posts."""


class ConnectionChanged(DomainMessage, bubble=False):
    """The event stream came up or went down."""

    def __init__(self, *, connected: bool) -> None:
        super().__init__()
        self.connected = connected


class Resync(DomainMessage, bubble=False):
    """Events may have been missed (reconnect, reset): re-read state from the API."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Resync)


class TestsUpdated(DomainMessage, bubble=False):
    """Some client added, changed or deleted tests: lists of tests should be read again."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TestsUpdated)


class QueueUpdated(DomainMessage, bubble=False):
    """Fresh queue figures from ``GET /v1/queue``."""

    def __init__(self, status: QueueStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, QueueUpdated)


class RunsQueued(DomainMessage, bubble=False):
    """A batch put runs in the queue."""

    def __init__(self, batch_id: int, run_ids: list[int]) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.run_ids = run_ids


class RunChanged(DomainMessage, bubble=False):
    """A run started an attempt or reached its final status."""

    def __init__(self, event: RunStarted | RunFinished) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # A later event about the same run says everything this one did.
        return isinstance(message, RunChanged) and message.event.run_id == self.event.run_id


class BatchProgressed(DomainMessage, bubble=False):
    """A batch's counts, rate and ETA."""

    def __init__(self, event: BatchProgress) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BatchProgressed) and message.event.batch_id == self.event.batch_id


class BatchEnded(DomainMessage, bubble=False):
    """Every run of a batch is final."""

    def __init__(self, event: BatchFinished) -> None:
        super().__init__()
        self.event = event
