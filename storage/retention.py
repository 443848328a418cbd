"""Retention: delete old history a whole batch at a time (so every batch kept stays complete and
exportable), then give the space back to the file system.

A prune never holds the write lock for long, however much it removes: the doomed batches are chosen
with a read, their runs go a chunk at a time, each chunk in its own short transaction with a pause after
it, so the engine's result writer and the API's writes get in between. The space comes back the same
way, a chunk of pages at a time (``PRAGMA incremental_vacuum``), in databases whose auto-vacuum mode is
incremental: new ones are made so (``connection.py``); an older database gets one full VACUUM, at its
first prune, which also switches it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from callboard.storage.timestamps import to_text

if TYPE_CHECKING:  # the Store itself uses this module
    from callboard.storage.store import Store

log = logging.getLogger(__name__)

# Runs deleted per transaction: about 0.1 s of the write lock on a loaded 2-core machine (each run
# also leaves five indexes). Bytes freed per incremental vacuum step: 4 MiB, in pages of the file's size.
CHUNK_RUNS = 1000
VACUUM_BYTES = 4 << 20
# Between two chunks the write lock is free this long, so that a writer waiting in SQLite's busy
# handler (the engine's writer, on its own connection) gets it before the prune takes it again.
PAUSE_S = 0.02
_INCREMENTAL = 2  # PRAGMA auto_vacuum

# Finished batches only: a running batch is never pruned, whatever its age.
_OLDER_THAN = "SELECT id FROM batches WHERE status != 'running' AND created_at < ?"
# Newest first, the running total of runs per finished batch; the batches past the cap go.
_PAST_MAX_RUNS = """
SELECT id FROM (
    SELECT batches.id, SUM(COUNT(runs.id)) OVER (ORDER BY batches.id DESC) AS kept
    FROM batches LEFT JOIN runs ON runs.batch_id = batches.id
    GROUP BY batches.id
) AS totals JOIN batches USING (id) WHERE kept > ? AND batches.status != 'running'
"""
# A chunk of one batch's runs, through runs_by_batch.
_DELETE_CHUNK = """
DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE batch_id = ? ORDER BY id LIMIT ?)
"""
# Still finished: a batch is only ever chosen once finished, and a finished batch never runs again.
_DELETE_BATCH = "DELETE FROM batches WHERE id = ? AND status != 'running'"

# Versions that no run refers to any more and that are no test's current definition.
_UNUSED_VERSIONS = """
DELETE FROM test_versions
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.version_id = test_versions.id)
  AND NOT EXISTS (SELECT 1 FROM tests WHERE tests.version_id = test_versions.id)
"""

# Names no judged run has any more (judged_runs loses a run's row with the run, by trigger).
_UNUSED_RUN_NAMES = """
DELETE FROM run_names WHERE NOT EXISTS (SELECT 1 FROM judged_runs WHERE judged_runs.name_id = run_names.id)
"""

# Lists of check labels no run names any more: each list counts the runs naming it (kept by triggers on
# runs, migration 0009), so this reads the few lists, never the runs.
_UNUSED_CHECK_LABELS = "DELETE FROM check_labels WHERE uses = 0"


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed."""

    batches: int
    runs: int
    vacuumed: bool


async def prune(store: Store, older_than: datetime | None, max_runs: int | None) -> PruneResult:
    """Delete finished batches (and their runs) created before ``older_than``, and the oldest finished
    batches beyond ``max_runs`` runs in all; then give the space back when anything went."""
    ids = await _doomed(store, older_than, max_runs)
    if not ids:
        return PruneResult(batches=0, runs=0, vacuumed=False)
    runs = 0
    for batch_id in ids:
        runs += await _delete_batch(store, batch_id)
    async with store.gate.transaction() as conn:
        await conn.execute(_UNUSED_VERSIONS)
        await conn.execute(_UNUSED_RUN_NAMES)
        await conn.execute(_UNUSED_CHECK_LABELS)
    return PruneResult(batches=len(ids), runs=runs, vacuumed=await _give_space_back(store))


async def _doomed(store: Store, older_than: datetime | None, max_runs: int | None) -> list[int]:
    """The batches to delete, oldest first, chosen by a read on the write connection: no write lock is
    taken while the runs are counted. A batch that finishes meanwhile is counted at the next prune."""
    doomed: set[int] = set()
    async with store.gate.outside_transaction() as conn:
        if older_than is not None:
            doomed |= {row[0] for row in await _fetch(conn, _OLDER_THAN, (to_text(older_than),))}
        if max_runs is not None:
            doomed |= {row[0] for row in await _fetch(conn, _PAST_MAX_RUNS, (max_runs,))}
    return sorted(doomed)


async def _fetch(conn: aiosqlite.Connection, query: str, params: tuple[object, ...]) -> list[sqlite3.Row]:
    async with conn.execute(query, params) as cursor:
        return list(await cursor.fetchall())


async def _delete_batch(store: Store, batch_id: int) -> int:
    """Delete a batch's runs a chunk per transaction, then the batch; how many runs went."""
    deleted = 0
    while True:
        async with store.gate.transaction() as conn:
            cursor = await conn.execute(_DELETE_CHUNK, (batch_id, CHUNK_RUNS))
            if cursor.rowcount < CHUNK_RUNS:
                await conn.execute(_DELETE_BATCH, (batch_id,))
        deleted += cursor.rowcount
        await asyncio.sleep(PAUSE_S)
        if cursor.rowcount < CHUNK_RUNS:
            return deleted


async def _give_space_back(store: Store) -> bool:
    """Return free pages to the file system, a chunk at a time where the database allows it; False when
    a full VACUUM could not run (a reader held the database: the space comes back next time)."""
    async with store.gate.outside_transaction() as conn:
        mode = (await _fetch(conn, "PRAGMA auto_vacuum", ()))[0][0]
    if mode != _INCREMENTAL:
        try:
            async with store.gate.outside_transaction() as conn:
                await conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:
            log.warning("prune: VACUUM skipped: %s", exc)
            return False
    else:
        async with store.gate.outside_transaction() as conn:
            pages = VACUUM_BYTES // (await _fetch(conn, "PRAGMA page_size", ()))[0][0]
        while True:
            async with store.gate.outside_transaction() as conn:
                if (await _fetch(conn, "PRAGMA freelist_count", ()))[0][0] == 0:
                    break
                # A script, so that the pragma is stepped to its end: it frees a page per step, and an
                # execute() stops after the first (sqlite3 sees a result row without columns).
                await conn.executescript(f"PRAGMA incremental_vacuum({pages});")
            await asyncio.sleep(PAUSE_S)
    async with store.gate.outside_transaction() as conn:
        await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True
