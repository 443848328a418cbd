"""Retention on PostgreSQL: delete old history a whole batch at a time (as ``storage.retention``).

A prune never holds locks for long, however much it removes: the doomed batches are chosen by a read,
their runs go ``CHUNK_RUNS`` at a time, each chunk in its own short transaction with a pause after it,
so the writers (the daemon's, the workers' fenced finishes) and the API are not stalled behind one
transaction deleting a million rows, and the deleted rows' WAL is written a chunk at a time.
PostgreSQL's autovacuum gives the space of deleted rows back to the tables, so nothing is vacuumed here.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from callboard.storage.postgres.access import PgAccess
from callboard.storage.retention import CHUNK_RUNS, PAUSE_S, PruneResult
from callboard.storage.timestamps import to_text

# The SQLite store's selection (storage/retention.py), in PostgreSQL's placeholders.
_OLDER_THAN = "SELECT id FROM batches WHERE status != 'running' AND created_at < %s"
_PAST_MAX_RUNS = """
SELECT id FROM (
    SELECT batches.id, SUM(COUNT(runs.id)) OVER (ORDER BY batches.id DESC) AS kept
    FROM batches LEFT JOIN runs ON runs.batch_id = batches.id
    GROUP BY batches.id
) AS totals JOIN batches USING (id) WHERE kept > %s AND batches.status != 'running'
"""
# A chunk of one batch's runs, through runs_by_batch (their dial intents go with them: ON DELETE CASCADE).
_DELETE_CHUNK = "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE batch_id = %s ORDER BY id LIMIT %s)"
# Still finished: a batch is only ever chosen once finished, and a finished batch never runs again.
_DELETE_BATCH = "DELETE FROM batches WHERE id = %s AND status != 'running'"
_UNUSED_VERSIONS = """
DELETE FROM test_versions
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.version_id = test_versions.id)
  AND NOT EXISTS (SELECT 1 FROM tests WHERE tests.version_id = test_versions.id)
"""
# The lists of check labels the doomed runs name, and of those the ones no run names any more (as on
# SQLite: storage/retention.py).
_NAMED_LABELS = "SELECT DISTINCT labels_id FROM runs WHERE labels_id IS NOT NULL AND batch_id = ANY(%s)"
_UNUSED_CHECK_LABELS = """
DELETE FROM check_labels WHERE id = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.labels_id = check_labels.id)
"""


class PgRetention:
    """Pruning finished batches by age and by the total number of runs kept."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def prune(self, older_than: datetime | None, max_runs: int | None) -> PruneResult:
        """Delete finished batches (and their runs) created before ``older_than``, and the oldest
        finished batches beyond ``max_runs`` runs in all, a chunk of runs per transaction."""
        ids = await self._doomed(older_than, max_runs)
        if not ids:
            return PruneResult(batches=0, runs=0, vacuumed=False)
        named = [row[0] for row in await self._access.fetchall(_NAMED_LABELS, (ids,))]
        runs = 0
        for batch_id in ids:
            runs += await self._delete_batch(batch_id)
        async with self._access.transaction() as conn:
            await conn.execute(_UNUSED_VERSIONS)
            if named:
                await conn.execute(_UNUSED_CHECK_LABELS, (named,))
        return PruneResult(batches=len(ids), runs=runs, vacuumed=False)

    async def _doomed(self, older_than: datetime | None, max_runs: int | None) -> list[int]:
        """The batches to delete, oldest first, chosen by reads (no lock is taken while the runs are
        counted). A batch that finishes meanwhile is counted at the next prune."""
        doomed: set[int] = set()
        if older_than is not None:
            doomed |= {row[0] for row in await self._access.fetchall(_OLDER_THAN, (to_text(older_than),))}
        if max_runs is not None:
            doomed |= {row[0] for row in await self._access.fetchall(_PAST_MAX_RUNS, (max_runs,))}
        return sorted(doomed)

    async def _delete_batch(self, batch_id: int) -> int:
        """Delete a batch's runs a chunk per transaction, then the batch (with its last chunk); how many
        runs went."""
        deleted = 0
        while True:
            async with self._access.transaction() as conn:
                cursor = await conn.execute(_DELETE_CHUNK, (batch_id, CHUNK_RUNS))
                if cursor.rowcount < CHUNK_RUNS:
                    await conn.execute(_DELETE_BATCH, (batch_id,))
            deleted += cursor.rowcount
            await asyncio.sleep(PAUSE_S)
            if cursor.rowcount < CHUNK_RUNS:
                return deleted
