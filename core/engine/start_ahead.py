"""How far ahead of a free slot the engine may commit runs' starts.

A run's attempt is committed before its work starts (a group commit: one tick and an fsync, often tens
of milliseconds under load). A run that holds one of the ``concurrency`` slots while it waits for that
commit leaves the slot idle: with 20 ms requests, half the time. So the dispatcher may start runs ahead:
their starts are committed while every slot is busy, and each takes a slot as soon as one frees up.

How many: the slots given back during eight start commits, at the rate they were given back over the
last second, never more than twice the concurrency. Starts come back committed in bursts, one commit's
worth at a time, and the slow commits take twice the usual one or more (on the bench's 4,180-run batch
a start waited p50 15-20 ms, p90 25-35 ms): a buffer of one or two commits' worth ran dry between bursts and
left a fifth of the slots idle; eight, up to twice the concurrency, kept them fed (same process,
batches alternating: 1,768 -> 1,884 runs/s, 8 of 10 pairs faster). Slots come back in bursts too (runs
started by one commit end together), so the rate is taken over a second rather than over one commit,
which would often see none. When runs are slow (calls, commands) hardly any ends in a second, and no
run waits started but without a slot for long.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

# The weight of the newest start commit in the running estimate of how long one takes.
_NEWEST_WEIGHT = 0.2
# Slots given back are counted over this window, in seconds.
_WINDOW_S = 1.0
# Starts committed ahead cover this many commits' worth of slots given back.
_COMMITS_COVERED = 8.0


class StartAhead:
    """Counts slots given back and times start commits; ``allowance`` says how many may start ahead."""

    def __init__(self, cap: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._cap = cap
        self._clock = clock
        self._commit_s = 0.0
        self._released: deque[float] = deque()

    def committed(self, took_s: float) -> None:
        """A run's start commit took ``took_s`` seconds."""
        self._commit_s += _NEWEST_WEIGHT * (took_s - self._commit_s)

    def released(self) -> None:
        """A run gave its slot back."""
        now = self._clock()
        self._released.append(now)
        self._forget_before(now - _WINDOW_S)

    def allowance(self) -> int:
        """How many runs may have their start committed beyond the slots."""
        now = self._clock()
        self._forget_before(now - _WINDOW_S)
        released = self._released
        if not released:
            return 0
        # Over a window that has not filled yet (a batch just began), the rate is per the time seen.
        seen_s = max(now - released[0], self._commit_s, 1e-3)
        per_s = len(released) / seen_s
        return min(self._cap, math.ceil(per_s * self._commit_s * _COMMITS_COVERED))

    def _forget_before(self, horizon: float) -> None:
        released = self._released
        while released and released[0] < horizon:
            released.popleft()
