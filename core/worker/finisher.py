"""Group commit of results on a worker: runs that finish while a commit is in flight are written
together in the next one (one transaction, one round trip), so many short runs do not pay a commit each.
A result is reported written only once its transaction has committed; while the store cannot commit,
results are kept and tried again. What a run spent of its batch's budget is added in the same
transaction (``storage.postgres.budgets.settle``), so it is counted exactly when its result is stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from psycopg import AsyncConnection, Error
from psycopg_pool import AsyncConnectionPool

from callboard.core.models import RunResult
from callboard.storage.postgres import budgets, leases
from callboard.storage.postgres.budgets import BudgetRules, Charge
from callboard.storage.postgres.queue import Lease

log = logging.getLogger(__name__)

RETRY_S = 1.0
_Item = tuple[tuple[Lease, RunResult, float | None], Charge | None]


class Finisher:
    """Writes finished runs in groups through ``leases.finish_many``, settling their budgets by ``rules``."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], rules: BudgetRules) -> None:
        self.pool = pool
        self.rules = rules
        self._pending: list[tuple[_Item, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start committing."""
        self._task = asyncio.create_task(self._run(), name="callboard-finisher")

    async def finish(
        self, lease: Lease, result: RunResult, duration_ms: float | None, charge: Charge | None = None
    ) -> bool:
        """Write the run's result in the next group (adding what it spent to ``charge``'s batch); False
        when its lease was lost (nothing written)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((((lease, result, duration_ms), charge), future))
        self._wake.set()
        return await asyncio.shield(future)

    async def close(self, attempts: int = 3) -> None:
        """Stop, writing what is still pending (a few attempts if the store is failing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _ in range(attempts):
            if not self._pending or await self._commit():
                return
            await asyncio.sleep(RETRY_S)
        log.error(
            "%d results could not be written; their runs go back to the queue when reaped", len(self._pending)
        )

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # A store outage has no event to wait on: retry on a fixed beat until it answers.
            while self._pending and not await self._commit():  # noqa: ASYNC110
                await asyncio.sleep(RETRY_S)

    async def _commit(self) -> bool:
        group, self._pending = self._pending, []
        try:
            async with self.pool.connection() as conn, conn.transaction():
                settled = await budgets.settle(conn, [item for item, _ in group], self.rules)
                written = await leases.finish_many(conn, settled)
        except Error as exc:
            log.warning("could not write %d results (%s); trying again", len(group), exc)
            self._pending = group + self._pending
            return False
        for (_, future), done in zip(group, written, strict=True):
            if not future.done():
                future.set_result(done)
        return True
