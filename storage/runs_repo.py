"""Reading runs: pages for the Simulations screen, the engine's queue, the last result of each test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from callboard.core.models import LastResult, Run, RunStatus
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.rows import RUN_DOCUMENT, run_from_document

StatusFilter = str | Sequence[str] | None
"""One status, several, or None for any."""


def _statuses(status: StatusFilter) -> list[str]:
    """The filter as a list of valid status values (ValueError for an unknown one)."""
    if status is None:
        return []
    values = [status] if isinstance(status, str) else list(status)
    return [RunStatus(value).value for value in values]


class RunsRepo:
    """Runs, read through the read connection (writes go through the batches repo and ResultWriter)."""

    def __init__(self, reads: aiosqlite.Connection) -> None:
        self._reads = reads

    async def page(
        self,
        status: StatusFilter = None,
        batch_id: int | None = None,
        test_id: int | None = None,
        kind: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[Run]:
        """Runs newest first matching every given filter; pass the last id seen as ``before_id`` for the
        next page (keyset pagination: each page costs the same however deep it is)."""
        where: list[str] = []
        params: list[Any] = []
        statuses = _statuses(status)
        if statuses:
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            params.extend(statuses)
        for column, value in (("batch_id", batch_id), ("test_id", test_id), ("kind", kind)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return await self._runs(
            f"SELECT {RUN_DOCUMENT} FROM runs {clause} ORDER BY id DESC LIMIT ?", (*params, limit)
        )

    async def get(self, run_id: int) -> Run | None:
        """The run with this id, or None."""
        found = await self._runs(f"SELECT {RUN_DOCUMENT} FROM runs WHERE id = ?", (run_id,))
        return found[0] if found else None

    async def last_results(self) -> dict[int, LastResult]:
        """How the newest final run of every test that has one ended, by test id."""
        # test_last_runs is kept by triggers (migration 0005) on every write that finishes a run, so this
        # is one scan of a narrow table, however many runs are stored.
        async with self._reads.execute(
            "SELECT last.test_id, runs.status, runs.score, runs.finished_at"
            " FROM test_last_runs AS last JOIN runs ON runs.id = last.run_id"
        ) as cursor:
            rows = await cursor.fetchall()
        return {
            test_id: LastResult(
                RunStatus(status), score, datetime.fromisoformat(finished) if finished else None
            )
            for test_id, status, score, finished in rows
        }

    async def queued(self, limit: int | None) -> list[Run]:
        """The next queued runs to start, highest priority first, then oldest first (all when ``limit``
        is None, as the engine loads its queue at start)."""
        return await self._runs(
            f"SELECT {RUN_DOCUMENT} FROM runs WHERE status = 'queued' ORDER BY priority DESC, id LIMIT ?",
            (-1 if limit is None else limit,),  # a negative LIMIT means no limit in SQLite
        )

    async def dial_intents(self) -> dict[int, DialIntent]:
        """The dial intents of queued runs that have no external id yet (calls that may or may not have
        been placed before a restart), by run id."""
        sql = (
            "SELECT run_id, to_number, from_number, created_at"
            " FROM dial_intents JOIN runs ON runs.id = run_id"
            " WHERE runs.status = 'queued' AND runs.external_id IS NULL"
        )
        async with self._reads.execute(sql) as cursor:
            rows = await cursor.fetchall()
        return {
            int(run_id): DialIntent(str(to), str(from_), datetime.fromisoformat(str(at)))
            for run_id, to, from_, at in rows
        }

    async def count(self, status: StatusFilter = None) -> int:
        """How many runs there are (in the given status or statuses)."""
        statuses = _statuses(status)
        clause = f"WHERE status IN ({', '.join('?' * len(statuses))})" if statuses else ""
        async with self._reads.execute(f"SELECT COUNT(*) FROM runs {clause}", statuses) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _runs(self, sql: str, params: Sequence[Any]) -> list[Run]:
        async with self._reads.execute(sql, params) as cursor:
            return [run_from_document(document) for (document,) in await cursor.fetchall()]
