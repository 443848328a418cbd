"""How tests fared across batches, aggregated in SQLite: a row per test per recent batch, and each
test's passes and failures per version among its newest runs.

Both are computed by the database (on the read connection's thread) and return a row per test and
batch or version, never a row per run: with 10,000 tests and a million runs stored, reading the runs
into Python would stall the daemon for seconds. Recency is ``(batch_id, id)``, both handed out in
increasing order, so a later batch (and within a batch, a later-queued run) is newer.
"""

from __future__ import annotations

import aiosqlite

from callboard.core.models.history import BatchVerdicts, VersionVerdicts

# Statuses that judge a test for its pass rate (as BatchCounts.pass_rate does); only passed and failed
# say whether it is flaky: error, cancelled and skipped say more about the environment. Every query
# below says ``status IN _JUDGED`` word for word: that is what lets SQLite use the partial index
# runs_judged_by_name (migration 0006), which holds exactly those runs.
_JUDGED = "status IN ('passed', 'failed', 'error')"
_VERDICT = f"{_JUDGED} AND status != 'error'"

# The names of the tests with judged runs, one index seek each (SQLite has no skip-scan without
# statistics), or just the one asked for. Without statistics the planner would rather walk runs_by_status
# for the status condition, a scan of every judged run per name: the index is named.
_ALL_NAMES = f"""
names (name) AS (
    SELECT MIN(test_name) FROM runs INDEXED BY runs_judged_by_name WHERE {_JUDGED}
    UNION ALL
    SELECT (
        SELECT MIN(test_name) FROM runs INDEXED BY runs_judged_by_name
        WHERE {_JUDGED} AND test_name > names.name
    )
    FROM names WHERE names.name IS NOT NULL
)"""
_ONE_NAME = "names (name) AS (SELECT ?)"

# Per test, the oldest of its last ``?`` batches with a judged run (NULL: fewer than that, all count);
# then its judged runs from that batch on, counted per batch.
_BATCH_VERDICTS = f"""
WITH RECURSIVE {{names}},
first_batch AS MATERIALIZED (
    SELECT name, (
        SELECT DISTINCT batch_id FROM runs WHERE {_JUDGED} AND test_name = names.name
        ORDER BY batch_id DESC LIMIT 1 OFFSET ?
    ) AS batch_id
    FROM names WHERE name IS NOT NULL
)
SELECT runs.test_name, runs.batch_id, COUNT(*), SUM(runs.status = 'passed'), AVG(runs.score)
FROM first_batch JOIN runs ON runs.test_name = first_batch.name
WHERE {_JUDGED} AND runs.batch_id >= COALESCE(first_batch.batch_id, 0)
GROUP BY runs.test_name, runs.batch_id ORDER BY runs.test_name, runs.batch_id
"""

# Per test, its ``?``-th newest passed or failed run (NULL: fewer than that, all count); then its
# passed and failed runs from that one on, counted per version.
_VERSION_VERDICTS = f"""
WITH RECURSIVE {{names}},
oldest AS MATERIALIZED (
    SELECT name, (
        SELECT id FROM runs WHERE {_VERDICT} AND test_name = names.name
        ORDER BY batch_id DESC, id DESC LIMIT 1 OFFSET ?
    ) AS run_id
    FROM names WHERE name IS NOT NULL
), cutoff AS MATERIALIZED (
    SELECT name, runs.batch_id, oldest.run_id FROM oldest LEFT JOIN runs ON runs.id = oldest.run_id
)
SELECT runs.test_name, runs.test_version, SUM(runs.status = 'passed'), SUM(runs.status = 'failed')
FROM cutoff JOIN runs ON runs.test_name = cutoff.name
WHERE {_VERDICT} AND runs.batch_id >= COALESCE(cutoff.batch_id, 0)
  AND (cutoff.run_id IS NULL OR (runs.batch_id, runs.id) >= (cutoff.batch_id, cutoff.run_id))
GROUP BY runs.test_name, runs.test_version ORDER BY runs.test_name, runs.test_version DESC
"""


class HistoryRepo:
    """Aggregates over finished runs, through the read connection."""

    def __init__(self, reads: aiosqlite.Connection) -> None:
        self._reads = reads

    async def _rows(self, query: str, limit: int, test_name: str | None) -> list[aiosqlite.Row]:
        """Each test's (or the named one's) rows of ``query``, whose ``{names}`` is the tests' names and
        whose ``?`` is how many of each test's newest batches or runs to skip before the cut."""
        if limit <= 0:
            return []
        if test_name is None:
            cursor = await self._reads.execute(query.format(names=_ALL_NAMES), (limit - 1,))
        else:
            cursor = await self._reads.execute(query.format(names=_ONE_NAME), (test_name, limit - 1))
        return list(await cursor.fetchall())

    async def batch_verdicts(self, last_batches: int, test_name: str | None = None) -> list[BatchVerdicts]:
        """For every test (or the one named), a row for each of the last ``last_batches`` batches where
        at least one of its runs passed, failed or errored; by name, then oldest batch first."""
        rows = await self._rows(_BATCH_VERDICTS, last_batches, test_name)
        return [BatchVerdicts(*row) for row in rows]

    async def version_verdicts(self, window: int, test_name: str | None = None) -> list[VersionVerdicts]:
        """For every test (or the one named), its passes and failures per version among its newest
        ``window`` passed or failed runs; by name, then newest version first."""
        rows = await self._rows(_VERSION_VERDICTS, window, test_name)
        return [VersionVerdicts(*row) for row in rows]
