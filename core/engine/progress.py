"""Per-batch progress in memory: counts, a moving-average rate and an ETA."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from callboard.core.models import BatchCounts, RunStatus

# The rate is averaged over the finishes of the last this-many seconds.
RATE_WINDOW_S = 10.0


@dataclass
class BatchTracker:
    """Counts of one batch as runs finish, kept so events need no database read."""

    batch_id: int
    counts: BatchCounts
    started: float = field(default_factory=time.monotonic)
    last_event: float = 0.0
    _finishes: deque[float] = field(default_factory=deque)

    def start(self) -> None:
        """One run moved from queued to running."""
        self.counts.queued -= 1
        self.counts.running += 1

    def record(self, status: RunStatus, was_running: bool, now: float | None = None) -> None:
        """Move one run from queued or running to its final status."""
        now = time.monotonic() if now is None else now
        counts = self.counts
        if was_running:
            counts.running -= 1
        else:
            counts.queued -= 1
        setattr(counts, status.value, getattr(counts, status.value) + 1)
        self._finishes.append(now)

    def rate_per_s(self, now: float | None = None) -> float:
        """Runs finished per second over the recent window."""
        now = time.monotonic() if now is None else now
        while self._finishes and self._finishes[0] < now - RATE_WINDOW_S:
            self._finishes.popleft()
        if not self._finishes:
            return 0.0
        span = min(RATE_WINDOW_S, max(now - self.started, 1e-3))
        return len(self._finishes) / span

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds until the batch is done at the current rate; None when nothing moves."""
        rate = self.rate_per_s(now)
        remaining = self.counts.total - self.counts.done
        return None if rate <= 0 else remaining / rate

    @property
    def finished(self) -> bool:
        """Every run is final."""
        return self.counts.done >= self.counts.total
