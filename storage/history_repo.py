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

# Each test's judged runs (passed, failed or error: as BatchCounts.pass_rate counts them) are kept in
# judged_runs by triggers (migration 0009), by name (a number per name, run_names) then recency, with
# what the aggregates need: ``passed`` 1, 0 or NULL for an error, which says nothing of flakiness
# (neither do cancelled and skipped, never judged). Each test's newest batches are a short walk
# backwards in that table's key instead of a scan of every run stored.

# The tests' names, or just the one asked for (``:name``).
_ALL_NAMES = "run_names AS names"
_ONE_NAME = "(SELECT * FROM run_names WHERE name = :name) AS names"

# Per test in name order (the names' unique index), its judged runs from the oldest of its last
# ``:offset + 1`` batches with one (NULL: fewer than that, all count; looked up once per test, as the
# bound of the walk in judged_runs' key), counted per batch. Rows arrive already in (name, batch) order,
# so grouping needs no sort of the 10,000 × 10 groups (CROSS JOIN keeps the names outermost).
_BATCH_VERDICTS = """
SELECT names.name, judged.batch_id, COUNT(*), SUM(judged.passed IS 1), AVG(judged.score)
FROM {names} CROSS JOIN judged_runs AS judged ON judged.name_id = names.id
WHERE judged.batch_id >= COALESCE((
    SELECT DISTINCT batch_id FROM judged_runs WHERE name_id = names.id
    ORDER BY batch_id DESC LIMIT 1 OFFSET :offset
), 0)
GROUP BY names.name, judged.batch_id ORDER BY names.name, judged.batch_id
"""

# Per test, its ``:offset + 1``-th newest passed or failed run (NULL: fewer than that, all count); then
# its passed and failed runs from that one on, counted per version.
_VERSION_VERDICTS = """
WITH oldest AS MATERIALIZED (
    SELECT names.id AS name_id, names.name, (
        SELECT run_id FROM judged_runs WHERE name_id = names.id AND passed IS NOT NULL
        ORDER BY batch_id DESC, run_id DESC LIMIT 1 OFFSET :offset
    ) AS run_id
    FROM {names}
), cutoff AS MATERIALIZED (
    SELECT oldest.name_id, oldest.name, runs.batch_id, oldest.run_id
    FROM oldest LEFT JOIN runs ON runs.id = oldest.run_id
)
SELECT cutoff.name, judged.test_version, SUM(judged.passed), SUM(judged.passed = 0)
FROM cutoff JOIN judged_runs AS judged ON judged.name_id = cutoff.name_id
WHERE judged.passed IS NOT NULL AND judged.batch_id >= COALESCE(cutoff.batch_id, 0)
  AND (cutoff.run_id IS NULL OR (judged.batch_id, judged.run_id) >= (cutoff.batch_id, cutoff.run_id))
GROUP BY cutoff.name, judged.test_version ORDER BY cutoff.name, judged.test_version DESC
"""


class HistoryRepo:
    """Aggregates over finished runs, through the read connection."""

    def __init__(self, reads: aiosqlite.Connection) -> None:
        self._reads = reads

    async def _rows(self, query: str, limit: int, test_name: str | None) -> list[aiosqlite.Row]:
        """Each test's (or the named one's) rows of ``query``, whose ``{names}`` is the tests' names and
        whose ``:offset`` is how many of each test's newest batches or runs to skip before the cut."""
        if limit <= 0:
            return []
        if test_name is None:
            cursor = await self._reads.execute(query.format(names=_ALL_NAMES), {"offset": limit - 1})
        else:
            params = {"offset": limit - 1, "name": test_name}
            cursor = await self._reads.execute(query.format(names=_ONE_NAME), params)
        return list(await cursor.fetchall())

    async def batch_verdicts(self, last_batches: int, test_name: str | None = None) -> list[BatchVerdicts]:
        """For every test (or the one named), a row for each of the last ``last_batches`` batches where
        at least one of its runs passed, failed or errored; by name, then oldest batch first."""
        rows = await self._rows(_BATCH_VERDICTS, last_batches, test_name)
        return list(map(BatchVerdicts._make, rows))

    async def version_verdicts(self, window: int, test_name: str | None = None) -> list[VersionVerdicts]:
        """For every test (or the one named), its passes and failures per version among its newest
        ``window`` passed or failed runs; by name, then newest version first."""
        rows = await self._rows(_VERSION_VERDICTS, window, test_name)
        return list(map(VersionVerdicts._make, rows))
