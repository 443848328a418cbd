"""The events outbox against a real server: events commit with their change, readers never pass an
event whose transaction is still open, NOTIFY wakes readers, any reader resumes from an id."""

from __future__ import annotations

from psycopg import AsyncConnection

from callboard.storage.postgres import outbox
from callboard.storage.postgres.queue import claim
from tests.postgres.queue_rows import queue_runs


async def _ids(conn: AsyncConnection, after: int = 0) -> list[int]:
    return [event.id for event in await outbox.read(conn, after)]


async def test_events_commit_or_roll_back_with_their_transaction(db: AsyncConnection, pg_url: str) -> None:
    writer = await AsyncConnection.connect(pg_url, autocommit=True)
    try:
        async with writer.transaction():
            await outbox.append(writer, "batch_created", {"batch_id": 1}, {"batch_id": 2})
            assert await _ids(db) == []  # not committed yet
        events = await outbox.read(db)
        assert [(e.kind, e.payload) for e in events] == [
            ("batch_created", {"batch_id": 1}),
            ("batch_created", {"batch_id": 2}),
        ]
        try:
            async with writer.transaction():
                await outbox.append(writer, "lost", {"x": 1})
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        assert await _ids(db, events[-1].id) == []
    finally:
        await writer.close()


async def test_a_reader_never_passes_an_event_still_in_flight(db: AsyncConnection, pg_url: str) -> None:
    first, second = [await AsyncConnection.connect(pg_url, autocommit=True) for _ in range(2)]
    try:
        async with first.transaction():
            await outbox.append(first, "a", {"n": 1})  # the lower id…
            async with second.transaction():
                await outbox.append(second, "b", {"n": 2})
            # …commits after the higher one: the reader must wait for it, not read past it.
            assert await _ids(db) == []
        events = await outbox.read(db)
        assert [e.kind for e in events] == ["a", "b"]
        assert await _ids(db, events[-1].id) == []
    finally:
        await first.close()
        await second.close()


async def test_an_older_transaction_with_a_later_id_skips_nothing(db: AsyncConnection, pg_url: str) -> None:
    """The case a bare ``id > last`` order gets wrong: the older transaction (lower xid) inserts its event
    after a younger one did (higher id) and commits first; the younger one's lower id must still come."""
    older, younger = [await AsyncConnection.connect(pg_url) for _ in range(2)]  # explicit transactions
    try:
        await older.execute("SELECT pg_current_xact_id()")  # takes its xid first
        await younger.execute("SELECT pg_current_xact_id()")
        await outbox.append(younger, "younger", {})
        await outbox.append(older, "older", {})
        await older.commit()
        [seen] = await outbox.read(db)
        assert seen.kind == "older"
        await younger.commit()
        cursor = await db.execute("SELECT count(*) FROM events WHERE id > %s", (seen.id,))
        assert await cursor.fetchone() == (0,)  # by id alone, the younger event would be lost
        assert [e.kind for e in await outbox.read(db, seen.id)] == ["younger"]
    finally:
        await older.close()
        await younger.close()


async def test_notify_wakes_a_reader_and_any_reader_resumes(db: AsyncConnection, pg_url: str) -> None:
    listener, other_daemon = [await AsyncConnection.connect(pg_url, autocommit=True) for _ in range(2)]
    try:
        await outbox.listen(listener)
        [run_id] = await queue_runs(db, 1)
        await claim(db, "w", 1)  # a queue change appends its event in its own transaction
        woke = [n async for n in listener.notifies(timeout=10, stop_after=1)]
        assert [n.channel for n in woke] == [outbox.EVENTS_CHANNEL]
        [started] = await outbox.read(db)
        assert (started.kind, started.payload) == (
            "run_started",
            {"run_id": run_id, "attempt": 1, "owner": "w"},
        )
        async with db.transaction():
            await outbox.append(db, "later", {"n": 1})
        # Another API daemon resumes a client from the id it was given (SSE Last-Event-ID).
        assert [e.kind for e in await outbox.read(other_daemon, started.id)] == ["later"]
        assert [e.kind for e in await outbox.read(other_daemon, 0)] == ["run_started", "later"]
    finally:
        await listener.close()
        await other_daemon.close()


async def test_readers_page_through_many_events(db: AsyncConnection) -> None:
    async with db.transaction():
        await outbox.append(db, "bulk", *({"n": n} for n in range(25)))
    seen: list[int] = []
    last = 0
    while page := await outbox.read(db, last, limit=10):
        seen.extend(e.payload["n"] for e in page)
        last = page[-1].id
    assert seen == list(range(25))
