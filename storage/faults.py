"""A result writer's store fault: why the store cannot commit, since when, the backoff between retries,
and the listeners told when a fault begins or ends. Both backends' writers keep theirs in one of these."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger("callboard.storage.writer")

# Backoff between commit attempts while the store is faulty: quick at first, then every second.
FAULT_RETRY_BASE_S = 0.1
FAULT_RETRY_MAX_S = 1.0


@dataclass
class StoreFault:
    """Why the store cannot commit, since when, and how many writes wait for it."""

    cause: str
    since: datetime
    started: float  # time.monotonic()
    waiting: int

    def describe(self) -> str:
        """One line for the API, the CLI and the log."""
        return (
            f"the store cannot commit since {self.since.astimezone().strftime('%H:%M:%S')} "
            f"({self.cause}); {self.waiting} writes kept in memory, no run is started until it can"
        )


class FaultTracker:
    """The current fault (None while commits succeed), logged once when it begins and once when it ends."""

    def __init__(self) -> None:
        self.fault: StoreFault | None = None
        self._attempts = 0
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a fault begins or ends."""
        self._listeners.append(listener)

    def failed(self, cause: str, waiting: int) -> None:
        """A commit failed with a fault (``cause``); ``waiting`` writes are kept for the next attempt."""
        self._attempts += 1
        if self.fault is not None:
            self.fault.waiting = waiting
            return
        self.fault = StoreFault(cause, datetime.now(UTC), time.monotonic(), waiting)
        log.error("%s; retrying", self.fault.describe())
        self._notify()

    def committed(self, count: int) -> None:
        """A commit went through: the fault (if any) is over."""
        if self.fault is None:
            return
        log.warning(
            "the store commits again after %.1f s (%d attempts); committed %d kept writes",
            time.monotonic() - self.fault.started,
            self._attempts,
            count,
        )
        self.fault = None
        self._attempts = 0
        self._notify()

    def delay(self) -> float:
        """How long to wait before the next attempt."""
        return min(FAULT_RETRY_MAX_S, FAULT_RETRY_BASE_S * 2 ** min(self._attempts - 1, 10))

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
