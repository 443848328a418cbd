"""The daemon's engine on a shared store (core.cluster.engine.ClusterEngine) against a real server, with
the queue's real writes standing for the workers: a submit queues and announces its runs in one commit,
the status is read from the store, cancel and pause act through the store, and an unreachable store is a
fault (health) and a StoreError (the API's 503), never a crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from psycopg import AsyncConnection

from callboard.core.cluster.engine import ClusterEngine
from callboard.core.cluster.events import OutboxEvents
from callboard.core.engine.engine import EngineConfig
from callboard.core.engine.limits import LimitSpec
from callboard.core.models import RunResult, RunStatus, parse_test
from callboard.core.models.selection import Selection
from callboard.core.worker.worker import Worker, WorkerOptions
from callboard.storage.errors import StoreError
from callboard.storage.postgres import leases, queue
from callboard.storage.postgres.connection import connect, describe, open_pool
from callboard.storage.postgres.store import PgStore
from tests.pg_server import PostgresServer

_GUARD_S = 30.0  # a guard against a hang, never a measure


def _command(name: str) -> dict[str, object]:
    return {"name": name, "kind": "command", "command": "true", "checks": [{"exit_code": 0}]}


@pytest.fixture
async def cluster(pg_url: str) -> AsyncIterator[ClusterEngine]:
    """A cluster engine on a fresh database holding two command tests and one HTTP test (a kind this
    engine's settings cannot run)."""
    store = await PgStore.open(pg_url)
    http = {"name": "web", "kind": "http", "request": {"method": "GET", "url": "http://127.0.0.1:9/"}}
    await store.tests.upsert_many(
        [parse_test(_command("one")), parse_test(_command("two")), parse_test(http)]
    )
    pool = await open_pool(pg_url, max_size=4, timeout_s=2)  # an outage shows within 2 s
    events = OutboxEvents(pg_url, pool)
    await events.start()
    config = EngineConfig(kind_limits={"command": LimitSpec(concurrency=4)})
    engine = ClusterEngine(store, pool, describe(pg_url), events, config, {"command"}, refresh_s=3600)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()
        await events.close()
        await pool.close()
        await store.close()


@pytest.fixture
async def db(pg_url: str, cluster: ClusterEngine) -> AsyncIterator[AsyncConnection]:
    """A connection of the test's own, standing for the workers."""
    conn = await connect(pg_url)
    yield conn
    await conn.close()


async def _claim(db: AsyncConnection, owner: str, n: int) -> list[queue.Claim]:
    await queue.label(db, lambda _version, _definition: ["kind:command"])
    return await queue.claim(db, owner, n)


async def test_a_submit_queues_and_announces_its_runs_in_one_commit(
    cluster: ClusterEngine, db: AsyncConnection
) -> None:
    submitted = await cluster.submit(Selection(all=True), label="nightly")
    assert submitted.skipped == {"web": "http tests are not supported yet"}
    batch = submitted.batch
    queued = [
        int(row[0])
        for row in await (
            await db.execute("SELECT id FROM runs WHERE status = 'queued' ORDER BY id")
        ).fetchall()
    ]
    assert len(queued) == 2
    rows = await (await db.execute("SELECT kind, payload FROM events ORDER BY id")).fetchall()
    assert [(kind, payload) for kind, payload in rows if kind == "runs_queued"] == [
        ("runs_queued", {"batch_id": batch.id, "run_ids": queued})
    ]
    await cluster.snapshot.refresh()
    status = cluster.status()
    assert (status.queued, status.running, status.paused) == (2, 0, False)


async def test_the_status_is_read_from_the_store(cluster: ClusterEngine, db: AsyncConnection) -> None:
    batch = (await cluster.submit(Selection(all=True))).batch
    [held] = await _claim(db, "worker-a", 1)
    await cluster.snapshot.refresh()
    status = cluster.status()
    assert (status.queued, status.running) == (1, 1)
    assert [(run.run_id, run.batch_id) for run in status.running_runs] == [(held.run_id, batch.id)]
    assert status.limits["kind:command"].in_use == 1 and status.limits["kind:command"].limit == 4
    assert await leases.finish(db, held.lease(), RunResult(status=RunStatus.PASSED), 5.0)
    await cluster.snapshot.refresh()
    status = cluster.status()
    assert (status.queued, status.running) == (1, 0)
    # One run of the batch ended between two readings: a rate, and an ETA for the one left.
    assert status.rate_per_s > 0 and status.batch_eta_s[batch.id] is not None
    assert status.last_event_id == cluster.events.last_id


async def test_cancels_settle_queued_runs_and_ask_the_owner_of_running_ones(
    cluster: ClusterEngine, db: AsyncConnection
) -> None:
    batch = (await cluster.submit(Selection(all=True))).batch
    [held] = await _claim(db, "worker-a", 1)
    assert await cluster.cancel_batch(batch.id) == 2
    rows = await (await db.execute("SELECT id, status, cancel_requested FROM runs ORDER BY id")).fetchall()
    assert {(run_id == held.run_id, status, asked) for run_id, status, asked in rows} == {
        (True, "running", True),  # for its worker to stop, hanging up its call
        (False, "cancelled", False),
        (False, "skipped", False),
    }
    beat = await queue.heartbeat(db, "worker-a")  # what the worker finds if it missed the notice
    assert beat.cancel == {held.run_id}
    assert await leases.finish(db, held.lease(), RunResult(status=RunStatus.CANCELLED), None)
    assert await cluster.cancel_run(held.run_id) is False  # final now: nothing to cancel
    await asyncio.wait_for(cluster.wait_batch(batch.id), _GUARD_S)


async def test_pause_and_resume_hold_for_every_worker(cluster: ClusterEngine, db: AsyncConnection) -> None:
    await cluster.submit(Selection(all=True))
    cluster.pause()
    assert cluster.paused  # at once, as the API answers
    await cluster.filled()  # the write is committed before the API answers
    assert await _claim(db, "worker-a", 2) == []
    assert (await queue.heartbeat(db, "worker-a")).paused
    cluster.resume()
    await cluster.filled()
    await cluster.snapshot.refresh()
    assert not cluster.status().paused
    assert len(await _claim(db, "worker-a", 2)) == 2


async def test_an_unreachable_store_is_a_fault_and_a_store_error(
    cluster: ClusterEngine, pg_url: str, pg_server: PostgresServer
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    pg_server.psql(f"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS false")
    pg_server.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    try:
        await cluster.snapshot.refresh()
        assert cluster.writer.fault is not None
        status = cluster.status()
        assert status.store_fault is not None and describe(pg_url) in status.store_fault
        with pytest.raises(StoreError):
            await cluster.cancel_run(1)
        cluster.pause()
        await asyncio.sleep(0.5)  # its write fails meanwhile; the failure waits for ``filled``
        with pytest.raises(StoreError):
            await cluster.filled()
    finally:
        pg_server.psql(f"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS true")
    async with asyncio.timeout(_GUARD_S):
        while cluster.writer.fault is not None:
            await cluster.snapshot.refresh()
            await asyncio.sleep(0.1)
    assert cluster.status().store_fault is None
    assert not cluster.status().paused  # the failed pause never reached the store


async def test_a_submit_wakes_an_idle_worker_at_once(
    pg_url: str, cluster: ClusterEngine, db: AsyncConnection
) -> None:
    """A worker that would not poll again for an hour claims a batch as soon as it is queued: the
    submit's wake notice reaches it (without it, the guard below runs out)."""
    pool = await open_pool(pg_url, max_size=4)
    worker = Worker(pg_url, pool, "idle", {}, EngineConfig(), WorkerOptions(poll_s=3600, reap_s=3600))
    stop = asyncio.Event()
    working = asyncio.create_task(worker.run(stop, "host", 1))
    try:
        async with asyncio.timeout(_GUARD_S):  # the worker's control connection is listening
            while not await (
                await db.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'LISTEN callboard_control%%'"
                )
            ).fetchone():
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # its claim loop has found the queue empty and waits
        batch = (await cluster.submit(Selection(names=["one"]))).batch
        async with asyncio.timeout(_GUARD_S):
            while (
                await (
                    await db.execute(
                        "SELECT count(*) FROM runs WHERE batch_id = %s AND status = 'queued'", (batch.id,)
                    )
                ).fetchone()
            ) != (0,):
                await asyncio.sleep(0.05)
        row = await (
            await db.execute("SELECT lease_owner, status FROM runs WHERE batch_id = %s", (batch.id,))
        ).fetchone()
        assert row is not None and row[1] != "queued"
    finally:
        stop.set()
        await working
        await pool.close()
