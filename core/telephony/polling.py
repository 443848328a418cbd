"""Asking Twilio again until an answer will do, with a growing pause and an optional deadline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from callboard.core.telephony import errors
from callboard.core.telephony.errors import describe

log = logging.getLogger(__name__)
T = TypeVar("T")


class PollTimeout(Exception):
    """What was polled for did not happen in time."""


class Poller:
    """Asks again with a growing pause (``initial_s`` doubling up to ``max_s``) until an answer will do.

    429s, 5xx answers and network failures are waited out (never sooner than a Retry-After asks); any
    other failure is raised.
    """

    def __init__(self, initial_s: float, max_s: float) -> None:
        self.initial_s = initial_s
        self.max_s = max(max_s, initial_s)

    async def until(
        self,
        fetch: Callable[[], Awaitable[T]],
        done: Callable[[T], bool],
        what: str,
        within_s: float | None = None,
    ) -> T:
        """The first fetched value for which ``done`` holds; PollTimeout after ``within_s`` seconds."""
        deadline = None if within_s is None else time.monotonic() + within_s
        delay = self.initial_s
        while True:
            pause = delay
            try:
                value = await fetch()
            except Exception as exc:
                if not errors.is_retryable(exc):
                    raise
                log.warning("%s: %s; asking again", what, describe(exc))
                pause = max(delay, errors.retry_after_s() or 0.0)
            else:
                if done(value):
                    return value
            if deadline is not None and time.monotonic() + pause > deadline:
                raise PollTimeout(f"{what}: nothing after {within_s:g} s")
            await asyncio.sleep(pause)
            delay = min(delay * 2, self.max_s)
