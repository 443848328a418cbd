"""The account's calls-per-second cap: a token bucket on real (not simulated) time, as Twilio's CPS is."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens a second, holding at most ``burst``; starts full."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()

    def try_take(self) -> bool:
        """Take one token if there is one; a refused request takes nothing."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def reserve(self) -> float:
        """Take the next token, now or later: returns how many seconds until it is there (0: now).

        Tokens may go below zero: each reservation waits for the tokens reserved before it, which is
        how an account's queue lets excess calls out at the CPS rate.
        """
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= 1.0
        return max(0.0, -self._tokens / self.rate)

    def reset(self) -> None:
        """Full again."""
        self._tokens, self._last = self.burst, self._clock()
