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
# say whether it is flaky: error, cancelled and skipped say more about the environment.
_JUDGED = "('passed', 'failed', 'error')"
_VERDICTS = "('passed', 'failed')"


class HistoryRepo:
    """Aggregates over finished runs, through the read connection."""

    def __init__(self, reads: aiosqlite.Connection) -> None:
        self._reads = reads

    async def _rows(self, query: str, limit: int, test_name: str | None) -> list[aiosqlite.Row]:
        """``query`` with ``{names}`` standing for the optional name filter and ``?`` for ``limit``."""
        if limit <= 0:
            return []
        names, params = ("AND test_name = ?", (test_name,)) if test_name is not None else ("", ())
        cursor = await self._reads.execute(query.format(names=names), (*params, limit))
        return list(await cursor.fetchall())

    async def batch_verdicts(self, last_batches: int, test_name: str | None = None) -> list[BatchVerdicts]:
        """For every test (or the one named), a row for each of the last ``last_batches`` batches where
        at least one of its runs passed, failed or errored; by name, then oldest batch first."""
        rows = await self._rows(
            f"""
            WITH per_batch AS (
                SELECT test_name, batch_id, COUNT(*) AS judged, SUM(status = 'passed') AS passed,
                       AVG(score) AS mean_score
                FROM runs WHERE status IN {_JUDGED} {{names}}
                GROUP BY test_name, batch_id
            ), ranked AS (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY test_name ORDER BY batch_id DESC) AS back
                FROM per_batch
            )
            SELECT test_name, batch_id, judged, passed, mean_score FROM ranked
            WHERE back <= ? ORDER BY test_name, batch_id
            """,
            last_batches,
            test_name,
        )
        return [BatchVerdicts(*row) for row in rows]

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
            SELECT test_name, test_version, SUM(status = 'passed'), SUM(status = 'failed') FROM recent
            WHERE back <= ? GROUP BY test_name, test_version ORDER BY test_name, test_version DESC
            """,
            window,
            test_name,
        )
        return [VersionVerdicts(*row) for row in rows]
