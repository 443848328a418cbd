"""The queue as the shared PostgreSQL store has it, for ``GET /v1/queue``: read by a background task every
``refresh_s`` and kept, since the engine's ``status()`` is synchronous.

Every figure comes from the database, so every daemon on it shows the same queue whichever worker runs
what. The rate is worked out here from successive readings: what each running batch has left (queued and
running runs) only goes down as runs end, so the drops over the last ``window_s`` are the runs finished in
that time (requeued runs of a lost worker count as not done again).

A reading that fails because the server cannot be reached is the store's fault (health answers 503)
until a reading succeeds again; the daemon goes on serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, Error
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from callboard.core.engine.limits import LimitSpec
from callboard.core.models.api import LimitUsage, QueueStatus, RunningRun
from callboard.storage.faults import FaultTracker

log = logging.getLogger(__name__)

# The monitor lists at most this many running runs (the oldest first).
_RUNNING_LISTED = 500
_LEFT_BY_BATCH = """
SELECT batch_id, status, count(*) FROM runs WHERE status IN ('queued', 'running') GROUP BY 1, 2
"""
_RUNNING_BY_KEY = """
SELECT key, count(*) FROM runs CROSS JOIN LATERAL unnest(limit_keys) AS key
WHERE status = 'running' GROUP BY key
"""
_RUNNING_RUNS = """
SELECT id, batch_id, test_name, started_at FROM runs WHERE status = 'running' ORDER BY started_at, id
LIMIT %s
"""


@dataclass(frozen=True)
class Reading:
    """One reading of the queue's tables."""

    at: float  # time.monotonic()
    paused: bool
    workers: int
    queued: dict[int, int]  # by batch
    running: dict[int, int]  # by batch
    by_key: dict[str, int]
    running_runs: list[RunningRun]

    def left(self) -> dict[int, int]:
        """Runs not final yet, by batch."""
        return {b: self.queued.get(b, 0) + self.running.get(b, 0) for b in {*self.queued, *self.running}}


async def read_queue(conn: AsyncConnection) -> Reading:
    """Read the queue's figures in one transaction (one consistent view)."""
    async with conn.transaction():
        paused_row = await (await conn.execute("SELECT paused FROM queue_control")).fetchone()
        workers_row = await (await conn.execute("SELECT count(*) FROM workers")).fetchone()
        queued: dict[int, int] = {}
        running: dict[int, int] = {}
        for batch_id, status, number in await (await conn.execute(_LEFT_BY_BATCH)).fetchall():
            (queued if status == "queued" else running)[int(batch_id)] = int(number)
        by_key = {str(key): int(n) for key, n in await (await conn.execute(_RUNNING_BY_KEY)).fetchall()}
        rows = await (await conn.execute(_RUNNING_RUNS, (_RUNNING_LISTED,))).fetchall()
    return Reading(
        at=time.monotonic(),
        paused=bool(paused_row and paused_row[0]),
        workers=int(workers_row[0]) if workers_row else 0,
        queued=queued,
        running=running,
        by_key=by_key,
        running_runs=[
            RunningRun(
                run_id=int(run_id),
                batch_id=int(batch_id),
                test_name=str(name),
                started_at=datetime.fromisoformat(started) if started else None,
            )
            for run_id, batch_id, name, started in rows
        ],
    )


@dataclass
class RateWindow:
    """Runs finished per second, overall and per batch, from the drops in what batches have left."""

    window_s: float = 30.0
    _readings: deque[tuple[float, dict[int, int]]] = field(default_factory=deque)

    def add(self, at: float, left: dict[int, int]) -> None:
        """Record what each batch had left at ``at``."""
        self._readings.append((at, left))
        while len(self._readings) > 2 and at - self._readings[1][0] >= self.window_s:
            self._readings.popleft()

    def rates(self) -> tuple[float, dict[int, float]]:
        """(runs/s overall, runs/s by batch) over the window; zeros until two readings are in."""
        if len(self._readings) < 2:
            return 0.0, {}
        (first_at, _), (last_at, _) = self._readings[0], self._readings[-1]
        span = last_at - first_at
        done: dict[int, int] = {}
        for (_, before), (_, after) in zip(self._readings, list(self._readings)[1:], strict=False):
            for batch_id, left in before.items():
                drop = left - after.get(batch_id, 0)
                if drop > 0:
                    done[batch_id] = done.get(batch_id, 0) + drop
        if span <= 0:
            return 0.0, {}
        by_batch = {batch_id: n / span for batch_id, n in done.items()}
        return sum(by_batch.values()), by_batch


class QueueSnapshot:
    """The latest reading as a ``QueueStatus``, refreshed in the background; see the module docstring."""

    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        where: str,
        limits: dict[str, LimitSpec],
        concurrency: int,
        refresh_s: float = 1.0,
    ) -> None:
        self._pool = pool
        self._where = where
        self._limits = limits
        self._concurrency = concurrency
        self.refresh_s = refresh_s
        self.faults = FaultTracker()
        self._rates = RateWindow()
        self._reading = Reading(
            time.monotonic(), paused=False, workers=0, queued={}, running={}, by_key={}, running_runs=[]
        )
        self._paused_here: bool | None = None  # a pause or resume asked here, until the next reading
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take a first reading (a fault if it fails), then keep reading in the background."""
        await self.refresh()
        self._task = asyncio.create_task(self._keep_reading(), name="callboard-queue-snapshot")

    async def close(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def refresh(self) -> None:
        """Read the queue now; an unreachable server becomes the store's fault."""
        try:
            async with self._pool.connection() as conn:
                reading = await read_queue(conn)
        except (Error, PoolTimeout) as exc:
            lines = str(exc).strip().splitlines()
            self.faults.failed(f"{self._where}: {lines[-1] if lines else type(exc).__name__}", 0)
            return
        self.faults.committed(0)
        self._reading = reading
        self._paused_here = None
        self._rates.add(reading.at, reading.left())

    def set_paused(self, *, paused: bool) -> None:
        """Show a pause or resume asked through this daemon at once, before the next reading."""
        self._paused_here = paused

    @property
    def paused(self) -> bool:
        """Whether the queue is paused, as last read (or as just asked here)."""
        return self._reading.paused if self._paused_here is None else self._paused_here

    def status(self, last_event_id: int) -> QueueStatus:
        """The monitor's figures from the latest reading."""
        reading = self._reading
        rate, by_batch = self._rates.rates()
        left = reading.left()
        etas: dict[int, float | None] = {
            batch_id: round(n / by_batch[batch_id], 1) if by_batch.get(batch_id) else None
            for batch_id, n in left.items()
        }
        known = [eta for eta in etas.values() if eta is not None]
        running = sum(reading.running.values())
        remaining = sum(left.values())
        fault = self.faults.fault
        fields: dict[str, Any] = {
            "running": running,
            "queued": sum(reading.queued.values()),
            "paused": self.paused,
            "rate_per_s": round(rate, 2),
            "eta_s": max(known) if known else (round(remaining / rate, 1) if rate > 0 else None),
            "batch_eta_s": etas,
            # Each live worker's default share ([engine] concurrency; `callboard worker --concurrency`
            # may differ): what the cluster can run at once, as far as the store knows.
            "concurrency": LimitUsage(in_use=running, limit=self._concurrency * max(1, reading.workers)),
            "limits": {
                key: LimitUsage(
                    in_use=reading.by_key.get(key, 0), limit=spec.concurrency, rate_per_s=spec.rate_per_s
                )
                for key, spec in self._limits.items()
            },
            "last_event_id": last_event_id,
            "store_fault": fault.describe() if fault else None,
            "running_runs": reading.running_runs,
        }
        return QueueStatus.model_validate(fields)

    async def _keep_reading(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.refresh()
            except Exception:  # a bad reading must never end the readings
                log.exception("reading the queue failed")
