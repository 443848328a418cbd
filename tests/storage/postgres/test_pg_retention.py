"""Retention on a real PostgreSQL server: a big batch goes a chunk of runs per transaction, so other
writers get in between and a row another transaction holds stops only the chunk that touches it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection

from callboard.storage.postgres.connection import connect
from callboard.storage.postgres.store import PgStore
from callboard.storage.retention import CHUNK_RUNS
from tests.postgres.queue_rows import queue_runs

RUNS = 2 * CHUNK_RUNS + 500


async def _one(conn: AsyncConnection, sql: str, params: tuple[object, ...] = ()) -> object:
    cursor = await conn.execute(sql, params)
    row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def _finished_batch(conn: AsyncConnection, count: int, labels_id: object) -> tuple[int, list[int]]:
    """A finished batch of ``count`` passed runs naming the check labels ``labels_id``."""
    ids = await queue_runs(conn, count)
    batch_id = int(str(await _one(conn, "SELECT batch_id FROM runs WHERE id = %s", (ids[0],))))
    await conn.execute(
        "UPDATE runs SET status = 'passed', labels_id = %s WHERE batch_id = %s", (labels_id, batch_id)
    )
    await conn.execute("UPDATE batches SET status = 'finished' WHERE id = %s", (batch_id,))
    return batch_id, ids


async def _runs_of(conn: AsyncConnection, batch_id: int) -> int:
    return int(str(await _one(conn, "SELECT count(*) FROM runs WHERE batch_id = %s", (batch_id,))))


async def test_a_big_batch_is_deleted_a_chunk_per_transaction(pg_url: str) -> None:
    store = await PgStore.open(pg_url)
    db = await connect(pg_url)
    blocker = await connect(pg_url)
    try:
        gone = await _one(db, "INSERT INTO check_labels (labels) VALUES ('[\"gone\"]') RETURNING id")
        kept = await _one(db, "INSERT INTO check_labels (labels) VALUES ('[\"kept\"]') RETURNING id")
        big, ids = await _finished_batch(db, RUNS, gone)
        other, _ = await _finished_batch(db, 3, kept)
        await db.execute(
            "UPDATE batches SET created_at = '2000-01-01T00:00:00.000000+00:00' WHERE id = %s", (big,)
        )
        # Another transaction holds a run of the second chunk: the prune can delete the first chunk
        # (committed on its own) and then waits at that row, not before.
        await blocker.execute("BEGIN")
        await blocker.execute("SELECT id FROM runs WHERE id = %s FOR UPDATE", (ids[CHUNK_RUNS + 10],))
        prune = asyncio.create_task(store.retention.prune(datetime.now(UTC) - timedelta(days=365), None))
        deadline = asyncio.get_running_loop().time() + 60
        while await _runs_of(db, big) != RUNS - CHUNK_RUNS:
            assert asyncio.get_running_loop().time() < deadline, "the first chunk was never committed"
            assert not prune.done()
            await asyncio.sleep(0.05)
        # Meanwhile the rest of the database takes writes (the API, a worker's finish) at once.
        await db.execute("UPDATE runs SET score = 50 WHERE batch_id = %s", (other,))
        assert not prune.done()
        await blocker.execute("ROLLBACK")
        result = await asyncio.wait_for(prune, 60)
        assert (result.batches, result.runs) == (1, RUNS)
        assert await _runs_of(db, big) == 0
        assert await _one(db, "SELECT count(*) FROM batches WHERE id = %s", (big,)) == 0
        assert await _runs_of(db, other) == 3
        # The list only the pruned runs named is gone; the one other runs still name is kept.
        cursor = await db.execute("SELECT id FROM check_labels ORDER BY id")
        assert [row[0] for row in await cursor.fetchall()] == [kept]
    finally:
        await blocker.close()
        await db.close()
        await store.close()
