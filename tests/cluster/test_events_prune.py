"""Pruning the events outbox against a real server (storage.postgres.outbox.prune): old events go as a
prefix in commit order, in chunks, never past an event still in flight nor the newest one, and readers
can tell that what they ask to resume from is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from psycopg import AsyncConnection

from callboard.storage.postgres import outbox
from callboard.storage.postgres.connection import connect
from callboard.storage.postgres.migrations import migrate


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to a fresh database at the latest schema."""
    conn = await connect(pg_url)
    await migrate(conn)
    yield conn
    await conn.close()


async def _append(conn: AsyncConnection, count: int) -> list[int]:
    async with conn.transaction():
        await outbox.append(conn, "bulk", *({"n": n} for n in range(count)))
    return [event.id for event in await _all(conn) if event.kind == "bulk"][-count:]


async def _all(conn: AsyncConnection) -> list[outbox.Event]:
    # Every event, once readable: readers stop at the server-wide horizon, which a transaction left open
    # by another test on the same server (in another database) holds back for a moment.
    for _ in range(40):  # or as far as they can be read (an open transaction of the test's own)
        page = await outbox.read_after(conn, outbox.START, 10_000)
        cursor = await conn.execute("SELECT count(*) FROM events")
        row = await cursor.fetchone()
        if row is not None and len(page.events) == row[0]:
            break
        await asyncio.sleep(0.05)
    return page.events


async def test_old_events_go_in_chunks_and_the_newest_stays(db: AsyncConnection) -> None:
    ids = await _append(db, 7)
    assert await outbox.prune(db, older_than_s=3600) == 0  # all younger than an hour
    assert await outbox.resumable(db, 0) == outbox.START
    assert await outbox.prune(db, older_than_s=0, chunk=2) == 6
    left = await _all(db)
    assert [e.id for e in left if e.kind == "bulk"] == ids[-1:]
    [marker] = [e for e in left if e.kind == outbox.PRUNED]  # one marker, however many chunks
    assert marker.payload == {"through": ids[-2]}
    # Resuming from a pruned id, or from the very start, is refused; from the newest event it works.
    assert await outbox.resumable(db, ids[0]) is None
    assert await outbox.resumable(db, 0) is None
    assert await outbox.resumable(db, ids[-1]) == left[0].position
    assert await outbox.resumable(db, ids[-1] + 1_000) is None  # never given out


async def test_pruning_stops_at_an_event_still_in_flight(db: AsyncConnection, pg_url: str) -> None:
    await _append(db, 2)
    older, younger = [await AsyncConnection.connect(pg_url) for _ in range(2)]  # explicit transactions
    try:
        await outbox.append(older, "older", {})  # in flight: it will sort before the younger one
        await outbox.append(younger, "younger", {})
        await younger.commit()
        await _append(db, 2)
        # Only what comes before the open transaction's place goes (and the newest final event stays).
        assert await outbox.prune(db, older_than_s=0) == 1
        await older.commit()
    finally:
        await older.close()
        await younger.close()
    kinds = [e.kind for e in await _all(db)]
    assert kinds == ["bulk", "older", "younger", "bulk", "bulk", outbox.PRUNED]


async def test_a_later_prune_keeps_one_marker(db: AsyncConnection) -> None:
    await _append(db, 3)
    assert await outbox.prune(db, older_than_s=0) == 2
    await _append(db, 3)
    # The first marker and the events before the newest go; a new marker says so.
    assert await outbox.prune(db, older_than_s=0) == 4
    left = await _all(db)
    assert [e.kind for e in left] == ["bulk", outbox.PRUNED]
    assert await outbox.resumable(db, 0) is None
