"""A worker's heartbeat against a real server: a run claimed while the heartbeat is in flight is not
taken for lost (bench/workers.py found runs left 'running' for ever under a lease the worker renewed)."""

from __future__ import annotations

import asyncio

import pytest
from psycopg import AsyncConnection

from callboard.core.engine.engine import EngineConfig
from callboard.core.worker.worker import Worker, WorkerOptions, keys_of
from callboard.storage.postgres import queue
from callboard.storage.postgres.connection import open_pool
from callboard.storage.postgres.store import PgStore
from tests.postgres.queue_rows import statuses
from tests.storage.conformance.helpers import queue as queue_batch


async def test_a_run_claimed_during_a_heartbeat_runs_to_its_end(
    db: AsyncConnection, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await PgStore.open(pg_url)
    try:
        _, [run_id] = await queue_batch(store, ["a"])
    finally:
        await store.close()
    assert await queue.label(db, keys_of) == 1
    await queue.register(db, "w", "host", 1)
    pool = await open_pool(pg_url, max_size=4)
    # No executors: the run ends 'error' (unsupported) through the worker's own fenced finish.
    worker = Worker(pg_url, pool, "w", {}, EngineConfig(), WorkerOptions())
    worker.finisher.start()
    real_heartbeat = queue.heartbeat

    async def claim_while_beating(
        conn: AsyncConnection, owner: str, lease_s: float, run_ids: list[int] | None = None
    ) -> queue.Heartbeat:
        beat = await real_heartbeat(conn, owner, lease_s, run_ids)
        # The worker's claim loop commits a claim after the heartbeat read the leases, and starts the
        # run before the heartbeat's answer is looked at: what two tasks of one worker do under load.
        async with pool.connection() as other:
            [claim] = await queue.claim(other, owner, 1)
        worker._start(claim)
        return beat

    monkeypatch.setattr(queue, "heartbeat", claim_while_beating)
    try:
        await worker._heartbeat()
        task = worker._active.get(run_id)
        assert task is not None
        await asyncio.wait_for(task, 30)
        assert await statuses(db, [run_id]) == {run_id: "error"}
    finally:
        await worker.finisher.close()
        await pool.close()
