"""Concurrency and rate limits per kind and per target (HTTP host, Twilio account).

The dispatcher asks ``try_acquire`` without blocking; a run whose limit is full is parked, so one
saturated target never holds the global slots other targets could use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LimitSpec:
    """At most ``concurrency`` at once and ``rate_per_s`` starts a second (burst ``burst``)."""

    concurrency: int | None = None
    rate_per_s: float | None = None
    burst: float | None = None


class TokenBucket:
    """Classic token bucket: ``rate`` tokens a second, holding at most ``capacity``."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def take(self) -> None:
        """Consume one token (call only when ``wait_time()`` is 0)."""
        self._tokens -= 1


@dataclass
class _Slot:
    spec: LimitSpec
    bucket: TokenBucket | None
    in_use: int = 0


@dataclass
class Limiter:
    """Holds one slot per limited key; keys with no spec are unlimited."""

    specs: dict[str, LimitSpec] = field(default_factory=dict)
    default_for: Callable[[str], LimitSpec | None] = lambda key: None
    clock: Callable[[], float] = time.monotonic
    _slots: dict[str, _Slot] = field(default_factory=dict)

    def _slot(self, key: str) -> _Slot | None:
        slot = self._slots.get(key)
        if slot is None:
            spec = self.specs.get(key) or self.default_for(key)
            if spec is None or (spec.concurrency is None and spec.rate_per_s is None):
                return None
            bucket = None
            if spec.rate_per_s is not None:
                bucket = TokenBucket(spec.rate_per_s, spec.burst or max(1.0, spec.rate_per_s), self.clock)
            slot = self._slots[key] = _Slot(spec, bucket)
        return slot

    def try_acquire(self, keys: Iterable[str]) -> tuple[str, float] | None:
        """Take a slot under every key, or none: returns the blocking key and a wait hint.

        The hint is the seconds until a rate token frees up, or ``inf`` when it waits on concurrency.
        """
        slots = [(key, slot) for key in keys if (slot := self._slot(key)) is not None]
        for key, slot in slots:
            if slot.spec.concurrency is not None and slot.in_use >= slot.spec.concurrency:
                return key, float("inf")
            if slot.bucket is not None and (wait := slot.bucket.wait_time()) > 0:
                return key, wait
        for _, slot in slots:
            slot.in_use += 1
            if slot.bucket is not None:
                slot.bucket.take()
        return None

    def release(self, keys: Iterable[str]) -> None:
        """Give back the concurrency slots taken by ``try_acquire``."""
        for key in keys:
            slot = self._slots.get(key)
            if slot is not None:
                slot.in_use -= 1

    def usage(self) -> dict[str, dict[str, float | int | None]]:
        """How much of each limit is in use, for the queue status."""
        return {
            key: {
                "in_use": slot.in_use,
                "limit": slot.spec.concurrency,
                "rate_per_s": slot.spec.rate_per_s,
            }
            for key, slot in self._slots.items()
        }
