"""The priority queue of runs waiting to start: higher priority first, FIFO within a priority."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from callboard.core.models import TestOutline


@dataclass(eq=False, slots=True, kw_only=True)
class QueuedRun:
    """What the engine needs to start a run, kept in memory while it waits (slotted: a big batch
    queues ten thousand)."""

    run_id: int
    batch_id: int
    priority: int
    attempt: int
    max_attempts: int
    test: TestOutline  # parsed when the run starts
    limit_keys: tuple[str, ...]
    external_id: str | None = None
    cancelled: bool = field(default=False)
    seq: int = field(default=-1)  # arrival order, kept when a parked run goes back in the heap


class RunQueue:
    """A heap of queued runs, plus runs parked while their limit is full.

    Cancelled runs are dropped lazily when they reach the top of the heap.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, QueuedRun]] = []
        self._order = itertools.count()
        self._by_id: dict[int, QueuedRun] = {}
        self._parked: dict[str, list[QueuedRun]] = {}

    def __len__(self) -> int:
        """Runs waiting, queued or parked."""
        return len(self._by_id)

    def push(self, run: QueuedRun) -> None:
        """Add a run (or put a parked one back)."""
        self._by_id[run.run_id] = run
        if run.seq < 0:
            run.seq = next(self._order)
        heapq.heappush(self._heap, (-run.priority, run.seq, run))

    def pop(self) -> QueuedRun | None:
        """The next run to start, or None when the queue is empty."""
        while self._heap:
            _, _, run = heapq.heappop(self._heap)
            if not run.cancelled and self._by_id.get(run.run_id) is run:
                del self._by_id[run.run_id]
                return run
        return None

    def park(self, run: QueuedRun, key: str) -> None:
        """Hold a run aside until the limit ``key`` frees up."""
        self._by_id[run.run_id] = run
        self._parked.setdefault(key, []).append(run)

    def unpark(self, key: str) -> None:
        """Put the runs parked on ``key`` back in the heap, in their original order."""
        for run in self._parked.pop(key, []):
            if not run.cancelled:
                heapq.heappush(self._heap, (-run.priority, run.seq, run))

    def remove(self, run_id: int) -> QueuedRun | None:
        """Take a run out (to cancel it); None when it is not waiting here."""
        run = self._by_id.pop(run_id, None)
        if run is not None:
            run.cancelled = True
        return run

    def get(self, run_id: int) -> QueuedRun | None:
        """The waiting run with this id, if any."""
        return self._by_id.get(run_id)

    def ids(self) -> list[int]:
        """Ids of the runs waiting here."""
        return list(self._by_id)
