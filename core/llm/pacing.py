"""Requests to the model within ``[llm].concurrency`` in flight and ``[llm].rate_per_s`` starts a second.

The engine already limits how many runs use the model at once (the ``llm`` target); this paces the
requests those runs make, because a provider's limits count requests, not runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class RequestPacer:
    """At most ``concurrency`` requests at once, started at least ``1 / rate_per_s`` apart."""

    def __init__(
        self,
        concurrency: int | None,
        rate_per_s: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._slots = asyncio.Semaphore(concurrency) if concurrency else None
        self._interval = 1.0 / rate_per_s if rate_per_s else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_start = 0.0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot for the ``async with`` block, after waiting for its start time."""
        if self._slots is not None:
            await self._slots.acquire()
        try:
            if self._interval:
                now = self._clock()
                start = max(now, self._next_start)
                self._next_start = start + self._interval
                if start > now:
                    await self._sleep(start - now)
            yield
        finally:
            if self._slots is not None:
                self._slots.release()
