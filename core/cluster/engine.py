"""The engine of a daemon on a shared PostgreSQL store: it queues, cancels, pauses and reports, and the
workers (``callboard worker``, and the daemon's own unless ``--no-worker``) execute.

Nothing is held in this process that another daemon could not see: a batch and its runs are committed
with their ``runs_queued`` event (the outbox), a cancel or pause is a row change plus a NOTIFY for the
workers (``storage.postgres.notices``), and the queue's figures are read from the database. So any
number of daemons and workers on one database drive the same queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from callboard.core.cluster.snapshot import QueueSnapshot
from callboard.core.engine.control import EventFeed, FaultWatch
from callboard.core.engine.engine import EngineConfig
from callboard.core.engine.planner import BatchPlanner
from callboard.core.engine.submission import Submitted, create_batch
from callboard.core.models.api import QueueStatus
from callboard.core.models.selection import BatchOptions, Selection
from callboard.storage.interface import StoreBackend
from callboard.storage.postgres import notices
from callboard.storage.postgres.access import outages_as_store_errors

log = logging.getLogger(__name__)

_LIVE_RUNS_OF_BATCH = "SELECT id FROM runs WHERE batch_id = %s AND status IN ('queued', 'running')"
_BATCH_LEFT = "SELECT EXISTS (SELECT 1 FROM runs WHERE batch_id = %s AND status IN ('queued', 'running'))"
_WAIT_POLL_S = 0.5


class ClusterEngine:
    """``EngineControl`` on a shared PostgreSQL store; see the module docstring."""

    def __init__(
        self,
        store: StoreBackend,
        pool: AsyncConnectionPool[AsyncConnection],
        where: str,
        events: EventFeed,
        config: EngineConfig,
        kinds: set[str],
        refresh_s: float = 1.0,
    ) -> None:
        self.store = store
        self.pool = pool
        self._where = where
        self._events = events
        self._planner = BatchPlanner(kinds, config.call_allowlist)
        self.snapshot = QueueSnapshot(pool, where, config.limits_by_key(), config.concurrency, refresh_s)
        # Pause and resume are synchronous in EngineControl: their writes run here and ``filled``
        # (which the API awaits before answering) waits for them and raises their failure.
        self._control: list[asyncio.Task[None]] = []

    @property
    def events(self) -> EventFeed:
        """The outbox, as every daemon reads it."""
        return self._events

    @property
    def writer(self) -> FaultWatch:
        """The store's fault as the queue's readings see it (health answers 503 while there is one)."""
        return self.snapshot.faults

    @property
    def paused(self) -> bool:
        """Whether workers may claim, as the store last said (or as just asked here)."""
        return self.snapshot.paused

    async def start(self) -> None:
        """Read the queue once and keep its figures fresh."""
        await self.snapshot.start()

    async def close(self) -> None:
        """Finish pending control writes and stop reading the queue."""
        with contextlib.suppress(Exception):
            await self.filled()
        await self.snapshot.close()

    async def submit(
        self,
        selection: Selection,
        options: BatchOptions | None = None,
        *,
        label: str = "",
        source: str = "cli",
        schedule_id: int | None = None,
    ) -> Submitted:
        """Create a batch of the selected tests with its runs queued and announced in one transaction,
        then wake the workers (raises SelectionError, StoreError)."""
        new = await create_batch(
            self.store,
            self._planner,
            selection,
            options or BatchOptions(),
            label=label,
            source=source,
            schedule_id=schedule_id,
        )
        created = new.created
        if any(run.queued for run in created.runs):
            try:
                async with self._connection() as conn:
                    await notices.wake(conn)
            except Exception as exc:  # the batch is committed; idle workers find it at their next poll
                log.warning("batch %d: could not wake the workers: %s", created.batch.id, exc)
        return new.submitted

    async def filled(self) -> None:
        """A batch is in the queue once ``submit`` returns; this waits for pause/resume writes, then
        reads the queue afresh, so a status asked right after a change shows it (not a second-old
        reading)."""
        while self._control:
            await self._control.pop(0)  # raises the write's failure (StoreError: the API answers 503)
        await self.snapshot.refresh()

    def status(self) -> QueueStatus:
        """The queue as last read from the store."""
        return self.snapshot.status(self._events.last_id)

    def pause(self) -> None:
        """Pause every worker on the store (running runs go on)."""
        self._set_paused(paused=True)

    def resume(self) -> None:
        """Let every worker claim again."""
        self._set_paused(paused=False)

    def _set_paused(self, *, paused: bool) -> None:
        self.snapshot.set_paused(paused=paused)

        async def write() -> None:
            async with self._connection() as conn:
                await notices.set_paused(conn, paused=paused)

        self._control.append(asyncio.get_running_loop().create_task(write()))

    async def cancel_run(self, run_id: int) -> bool:
        """Cancel a queued run at once, or ask the worker running it to stop it (hanging up its call);
        False when it is neither queued nor running."""
        async with self._connection() as conn:
            done = await notices.cancel(conn, [run_id])
        return bool(done.cancelled or done.asked)

    async def cancel_batch(self, batch_id: int) -> int:
        """Cancel the batch's queued runs and ask the owners of its running ones; returns how many."""
        async with self._connection() as conn:
            cursor = await conn.execute(_LIVE_RUNS_OF_BATCH, (batch_id,))
            ids = [int(row[0]) for row in await cursor.fetchall()]
            done = await notices.cancel(conn, ids) if ids else notices.Cancelled((), ())
        return len(done.cancelled) + len(done.asked)

    async def wait_batch(self, batch_id: int) -> None:
        """Return once every run of the batch is final (read from the store; a fault is waited out)."""
        while True:
            try:
                async with self._connection() as conn:
                    row = await (await conn.execute(_BATCH_LEFT, (batch_id,))).fetchone()
                if row is not None and not row[0]:
                    return
            except Exception as exc:
                log.debug("waiting for batch %d: %s", batch_id, exc)
            await asyncio.sleep(_WAIT_POLL_S)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection whose outages are StoreErrors naming the database."""
        with outages_as_store_errors(self._where):
            async with self.pool.connection() as conn:
                yield conn
