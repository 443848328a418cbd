"""Backoff for transient errors: exponential with jitter, and never sooner than Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (1-based): base·2^(n-1), capped, with ±50% jitter."""

    base_s: float = 0.5
    max_s: float = 30.0

    def delay(self, retry: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before this retry."""
        exponential = min(self.max_s, self.base_s * 2 ** (retry - 1))
        jittered = exponential * (0.5 + (rng or random).random())
        return max(jittered, retry_after or 0.0)
