"""How tests fared across batches, aggregated by PostgreSQL (see ``storage.history_repo``): a row per
test and batch or version, never a row per run."""

from __future__ import annotations

from typing import Any

from callboard.core.models.history import BatchVerdicts, VersionVerdicts
from callboard.storage.postgres.access import PgAccess

_JUDGED = "('passed', 'failed', 'error')"
_VERDICTS = "('passed', 'failed')"


class PgHistoryRepo:
    """Aggregates over finished runs."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def _rows(self, query: str, limit: int, test_name: str | None) -> list[tuple[Any, ...]]:
        if limit <= 0:
            return []
        names, params = ("AND test_name = %s", (test_name,)) if test_name is not None else ("", ())
        return await self._access.fetchall(query.format(names=names), (*params, limit))

    async def batch_verdicts(self, last_batches: int, test_name: str | None = None) -> list[BatchVerdicts]:
        """For every test (or the one named), a row for each of its last ``last_batches`` judged batches;
        by name, then oldest batch first."""
        rows = await self._rows(
            f"""
            WITH per_batch AS (
                SELECT test_name, batch_id, COUNT(*) AS judged,
                       COUNT(*) FILTER (WHERE status = 'passed') AS passed, AVG(score) AS mean_score
                FROM runs WHERE status IN {_JUDGED} {{names}}
                GROUP BY test_name, batch_id
            ), ranked AS (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY test_name ORDER BY batch_id DESC) AS back
                FROM per_batch
            )
            SELECT test_name, batch_id, judged, passed, mean_score FROM ranked
            WHERE back <= %s ORDER BY test_name COLLATE "C", batch_id
            """,
            last_batches,
            test_name,
        )
        return [
            BatchVerdicts(name, batch, int(judged), int(passed), mean)
            for name, batch, judged, passed, mean in rows
        ]

    async def version_verdicts(self, window: int, test_name: str | None = None) -> list[VersionVerdicts]:
        """For every test (or the one named), its passes and failures per version among its newest
        ``window`` passed or failed runs; by name, then newest version first."""
        rows = await self._rows(
            f"""
            WITH recent AS (
                SELECT test_name, test_version, status,
                       ROW_NUMBER() OVER (PARTITION BY test_name ORDER BY batch_id DESC, id DESC) AS back
                FROM runs WHERE status IN {_VERDICTS} {{names}}
            )
            SELECT test_name, test_version, COUNT(*) FILTER (WHERE status = 'passed'),
                   COUNT(*) FILTER (WHERE status = 'failed') FROM recent
            WHERE back <= %s GROUP BY test_name, test_version
            ORDER BY test_name COLLATE "C", test_version DESC
            """,
            window,
            test_name,
        )
        return [
            VersionVerdicts(name, version, int(passed), int(failed)) for name, version, passed, failed in rows
        ]
