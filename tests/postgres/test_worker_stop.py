"""A worker's cancel stays effective when it has to be asked twice: the first cancel reached the run's
task but the executor swallowed it (as a client library's cleanup can), and the heartbeat, finding the
run still asked to cancel, cancels it again. A worker in this process on a real server, with the real
notices and heartbeat; the stand-in is the misbehaving executor only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

from callboard.core.engine.engine import EngineConfig
from callboard.core.execution.base import Job, Outcome
from callboard.core.worker.worker import Worker, WorkerOptions
from callboard.storage.postgres import notices
from callboard.storage.postgres.connection import connect, open_pool
from tests.postgres.worker_support import queue_tests, rows, until


class SwallowsTheFirstCancel:
    """A command 'executor' that runs for a minute and ignores the first cancel it gets."""

    kind = "command"

    def __init__(self) -> None:
        self.cancels = 0
        self.started = asyncio.Event()

    async def execute(self, job: Job) -> Outcome:
        del job
        self.started.set()
        while True:
            try:
                await asyncio.sleep(60)
                return Outcome(checks=[])
            except asyncio.CancelledError:
                self.cancels += 1
                if self.cancels > 1:
                    raise

    async def aclose(self) -> None:
        """Nothing to release."""


async def test_a_repeated_cancel_stops_a_run_whose_first_cancel_was_swallowed(pg_url: str) -> None:
    await queue_tests(pg_url, [{"name": "long", "kind": "command", "command": "sleep 60"}])
    executor = SwallowsTheFirstCancel()
    pool = await open_pool(pg_url)
    # A short lease: the heartbeat (every lease / 3) comes round within a second.
    options = WorkerOptions(concurrency=1, lease_s=3.0, poll_s=0.1)
    worker = Worker(pg_url, pool, "w1", {"command": executor}, EngineConfig(), options)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop, socket.gethostname(), os.getpid()))
    try:
        await asyncio.wait_for(executor.started.wait(), 30)
        [[run_id]] = await rows(pg_url, "SELECT id FROM runs")
        conn = await connect(pg_url)
        try:
            # The notice reaches the worker at once: its cancel is swallowed; the heartbeat asks again.
            assert await notices.cancel(conn, [run_id]) == notices.Cancelled(cancelled=(), asked=(run_id,))
        finally:
            await conn.close()
        await until(pg_url, "SELECT status = 'cancelled' FROM runs", timeout_s=30)
        ended = await rows(pg_url, "SELECT error_message, attempt FROM runs")
        assert ended == [("cancelled while running", 1)]
        assert executor.cancels == 2
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 30)
        await pool.close()
