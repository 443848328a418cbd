"""Retention on PostgreSQL: delete old history a whole batch at a time (as ``storage.retention``).

PostgreSQL's autovacuum gives the space of deleted rows back to the tables, so nothing is vacuumed here.
"""

from __future__ import annotations

from datetime import datetime

from callboard.storage.postgres.access import PgAccess
from callboard.storage.retention import PruneResult
from callboard.storage.timestamps import to_text

# The SQLite store's selection, in PostgreSQL's placeholders (kept here: SQLite's may be chunked).
_OLDER_THAN = "SELECT id FROM batches WHERE status != 'running' AND created_at < %s"
_PAST_MAX_RUNS = """
SELECT id FROM (
    SELECT batches.id, SUM(COUNT(runs.id)) OVER (ORDER BY batches.id DESC) AS kept
    FROM batches LEFT JOIN runs ON runs.batch_id = batches.id
    GROUP BY batches.id
) AS totals JOIN batches USING (id) WHERE kept > %s AND batches.status != 'running'
"""
_UNUSED_VERSIONS = """
DELETE FROM test_versions
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.version_id = test_versions.id)
  AND NOT EXISTS (SELECT 1 FROM tests WHERE tests.version_id = test_versions.id)
"""


class PgRetention:
    """Pruning finished batches by age and by the total number of runs kept."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def prune(self, older_than: datetime | None, max_runs: int | None) -> PruneResult:
        """Delete finished batches (and their runs) created before ``older_than``, and the oldest
        finished batches beyond ``max_runs`` runs in all, in one transaction."""
        async with self._access.transaction() as conn:
            doomed: set[int] = set()
            if older_than is not None:
                cursor = await conn.execute(_OLDER_THAN, (to_text(older_than),))
                doomed |= {row[0] for row in await cursor.fetchall()}
            if max_runs is not None:
                cursor = await conn.execute(_PAST_MAX_RUNS, (max_runs,))
                doomed |= {row[0] for row in await cursor.fetchall()}
            ids = sorted(doomed)
            runs = 0
            if ids:
                runs = (await conn.execute("DELETE FROM runs WHERE batch_id = ANY(%s)", (ids,))).rowcount
                await conn.execute("DELETE FROM batches WHERE id = ANY(%s)", (ids,))
                await conn.execute(_UNUSED_VERSIONS)
        return PruneResult(batches=len(ids), runs=runs, vacuumed=False)
