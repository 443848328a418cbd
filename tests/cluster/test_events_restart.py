"""The outbox feed outlives a database restart (a server of this test's own, never the session's): a
subscriber keeps its stream and gets every event written before and after, once each, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from callboard.core.cluster.events import OutboxEvents
from callboard.core.models import RunResult, RunStatus
from callboard.core.models.events import BatchFinished, BatchProgress, EventBase, RunFinished, RunStarted
from callboard.storage.postgres import finishing, leases
from callboard.storage.postgres.connection import connect, open_pool
from callboard.storage.postgres.migrations import migrate
from callboard.storage.postgres.queue import claim
from tests.pg_server import PostgresServer, PostgresUnavailable, start_server
from tests.postgres.queue_rows import queue_runs

_GUARD_S = 60.0  # against a hang only


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server this test may restart."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


async def _finish_some(url: str, owner: str, count: int) -> list[int]:
    conn = await connect(url)
    try:
        claims = await claim(conn, owner, count)
        await leases.finish_many(conn, [(c.lease(), RunResult(status=RunStatus.PASSED), 1.0) for c in claims])
        return [c.run_id for c in claims]
    finally:
        await conn.close()


async def test_a_subscriber_gets_every_event_across_a_database_restart(
    own_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_server.create_database()
    conn = await connect(url)
    await migrate(conn)
    run_ids = await queue_runs(conn, 6)
    await conn.close()
    pool = await open_pool(url, max_size=4)
    feed = OutboxEvents(url, pool)
    await feed.start()
    events = feed.subscribe(feed.last_id)
    seen: list[EventBase] = []

    async def follow() -> None:
        async for event in events:
            seen.append(event)
            if isinstance(event, BatchFinished):
                return

    following = asyncio.create_task(follow())
    try:
        before = await _finish_some(url, "worker-a", 3)
        await asyncio.to_thread(own_server.restart)
        after = await _finish_some(url, "worker-b", 3)
        conn = await connect(url)
        [batch_id] = await finishing.finish_done_batches(conn)
        await conn.close()
        await asyncio.wait_for(following, _GUARD_S)
    finally:
        following.cancel()
        await events.aclose()
        await feed.close()
        await pool.close()

    assert sorted(before + after) == run_ids
    started = [e.run_id for e in seen if isinstance(e, RunStarted)]
    finished = [e.run_id for e in seen if isinstance(e, RunFinished)]
    assert started == before + after  # each once, in commit order
    assert sorted(finished) == run_ids
    end = seen[-1]
    assert isinstance(end, BatchFinished) and (end.batch_id, end.passed) == (batch_id, 6)
    assert isinstance(seen[-2], BatchProgress)
    assert "reading the events outbox failed" in caplog.text  # the restart did cut the feed off
