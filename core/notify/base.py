"""What every sender is, and the error it raises."""

from __future__ import annotations

from typing import Protocol

from callboard.core.notify.summary import BatchSummary


class NotifyError(Exception):
    """A notification was not delivered; the message is safe to log (no URL, no password)."""


class Sender(Protocol):
    """Delivers one summary over one channel."""

    async def send(self, summary: BatchSummary) -> None:
        """Deliver ``summary``, raising NotifyError when it was not delivered."""
        ...
