"""Cancel and pause across workers against a real server: the owner is told at once, the heartbeat is
the fallback, claims stop while paused."""

from __future__ import annotations

from psycopg import AsyncConnection

from callboard.core.models import RunResult, RunStatus
from callboard.storage.postgres import leases, notices
from callboard.storage.postgres.queue import claim, heartbeat
from tests.postgres.queue_rows import queue_runs, statuses


async def test_cancel_reaches_the_worker_that_owns_the_run(db: AsyncConnection, pg_url: str) -> None:
    owner_conn, other_conn = [await AsyncConnection.connect(pg_url, autocommit=True) for _ in range(2)]
    try:
        await notices.listen(owner_conn)
        running, other, queued = await queue_runs(db, 3)
        [mine] = await claim(db, "worker-a", 1)
        await claim(db, "worker-b", 1)
        done = await notices.cancel(other_conn, [running, queued])
        assert done == notices.Cancelled(cancelled=(queued,), asked=(running,))
        [notify] = [n async for n in owner_conn.notifies(timeout=10, stop_after=1)]
        notice = notices.Notice.parse(notify.payload)
        assert notice == notices.Notice("worker-a", "cancel", running)
        assert notice.concerns("worker-a") and not notice.concerns("worker-b")
        # The heartbeat carries the same request, for a worker whose listening connection was down.
        assert (await heartbeat(db, "worker-a")).cancel == {running}
        assert (await heartbeat(db, "worker-b")).cancel == set()
        # The owner stops the run and finishes it through its fenced write.
        assert await leases.finish(db, mine.lease(), RunResult(status=RunStatus.CANCELLED), 3.0)
        assert await statuses(db, [running, other, queued]) == {
            running: "cancelled",
            other: "running",
            queued: "cancelled",
        }
    finally:
        await owner_conn.close()
        await other_conn.close()


async def test_pause_stops_every_claim_until_resumed(db: AsyncConnection, pg_url: str) -> None:
    listener = await AsyncConnection.connect(pg_url, autocommit=True)
    try:
        await notices.listen(listener)
        ids = await queue_runs(db, 2)
        await notices.set_paused(db, paused=True)
        [notify] = [n async for n in listener.notifies(timeout=10, stop_after=1)]
        assert notices.Notice.parse(notify.payload) == notices.Notice("*", "pause")
        assert notices.Notice.parse(notify.payload).concerns("any-worker")
        assert await claim(db, "w", 5) == []
        assert (await heartbeat(db, "w")).paused
        await notices.set_paused(db, paused=False)
        assert [c.run_id for c in await claim(db, "w", 5)] == ids
        assert not (await heartbeat(db, "w")).paused
    finally:
        await listener.close()
