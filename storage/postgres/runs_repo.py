"""Reading runs on PostgreSQL: pages, the engine's queue, the last result of each test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callboard.core.models import LastResult, Run, RunStatus
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.postgres.access import PgAccess
from callboard.storage.postgres.rows import RUN_DOCUMENT
from callboard.storage.rows import run_from_document
from callboard.storage.runs_repo import StatusFilter, _statuses


class PgRunsRepo:
    """Runs, read through the pool (writes go through the batches repo and the result writer)."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def page(
        self,
        status: StatusFilter = None,
        batch_id: int | None = None,
        test_id: int | None = None,
        kind: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[Run]:
        """Runs newest first matching every given filter (keyset pagination by ``before_id``)."""
        where: list[str] = []
        params: list[Any] = []
        statuses = _statuses(status)
        if statuses:
            where.append("status = ANY(%s)")
            params.append(statuses)
        for column, value in (("batch_id", batch_id), ("test_id", test_id), ("kind", kind)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if before_id is not None:
            where.append("id < %s")
            params.append(before_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return await self._runs(
            f"SELECT {RUN_DOCUMENT} FROM runs {clause} ORDER BY id DESC LIMIT %s", (*params, limit)
        )

    async def get(self, run_id: int) -> Run | None:
        """The run with this id, or None."""
        found = await self._runs(f"SELECT {RUN_DOCUMENT} FROM runs WHERE id = %s", (run_id,))
        return found[0] if found else None

    async def last_results(self) -> dict[int, LastResult]:
        """How the newest final run of every test that has one ended, by test id (test_last_runs is
        kept by triggers, as on SQLite)."""
        rows = await self._access.fetchall(
            "SELECT last.test_id, runs.status, runs.score, runs.finished_at"
            " FROM test_last_runs AS last JOIN runs ON runs.id = last.run_id"
        )
        return {
            test_id: LastResult(
                RunStatus(status), score, datetime.fromisoformat(finished) if finished else None
            )
            for test_id, status, score, finished in rows
        }

    async def queued(self, limit: int | None) -> list[Run]:
        """The next queued runs to start, highest priority first, then oldest first (all when None)."""
        return await self._runs(
            f"SELECT {RUN_DOCUMENT} FROM runs WHERE status = 'queued' ORDER BY priority DESC, id LIMIT %s",
            (limit,),  # LIMIT NULL means no limit in PostgreSQL
        )

    async def dial_intents(self) -> dict[int, DialIntent]:
        """The dial intents of queued runs that have no external id yet, by run id."""
        rows = await self._access.fetchall(
            "SELECT run_id, to_number, from_number, created_at"
            " FROM dial_intents JOIN runs ON runs.id = run_id"
            " WHERE runs.status = 'queued' AND runs.external_id IS NULL"
        )
        return {
            int(run_id): DialIntent(str(to), str(from_), datetime.fromisoformat(str(at)))
            for run_id, to, from_, at in rows
        }

    async def count(self, status: StatusFilter = None) -> int:
        """How many runs there are (in the given status or statuses)."""
        statuses = _statuses(status)
        if statuses:
            row = await self._access.fetchone("SELECT COUNT(*) FROM runs WHERE status = ANY(%s)", (statuses,))
        else:
            row = await self._access.fetchone("SELECT COUNT(*) FROM runs")
        return int(row[0]) if row else 0

    async def _runs(self, sql: str, params: Sequence[Any]) -> list[Run]:
        return [run_from_document(document) for (document,) in await self._access.fetchall(sql, params)]
