"""Starting a worker from the settings: the store's pool, the executors, an identity, the loop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import uuid

from callboard.core.config import Settings
from callboard.core.engine.stack import engine_config, executors_for
from callboard.core.execution import event_loop
from callboard.core.execution.collector import tune_collector
from callboard.core.executors.registry import close_executors
from callboard.core.worker.worker import Worker, WorkerOptions
from callboard.storage.postgres.connection import connect, open_pool
from callboard.storage.postgres.migrations import migrate


def worker_options(
    settings: Settings, concurrency: int | None = None, lease_s: float = 30.0
) -> WorkerOptions:
    """A worker's share and timings from the settings (``concurrency`` defaults to engine.concurrency)."""
    return WorkerOptions(
        concurrency=concurrency or settings.engine.concurrency,
        lease_s=lease_s,
        reap_s=min(5.0, lease_s / 2),
        shutdown_grace_s=settings.engine.shutdown_grace_s,
    )


def worker_id(host: str, pid: int) -> str:
    """A name no other worker has, now or after a restart: host, process and a random part."""
    return f"{host}:{pid}:{uuid.uuid4().hex[:8]}"


async def run_worker(settings: Settings, url: str, options: WorkerOptions, stop: asyncio.Event) -> str:
    """Work on the PostgreSQL store at ``url`` until ``stop`` is set; returns this worker's id."""
    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    config = engine_config(settings)
    executors = executors_for(settings, config)
    host, pid = socket.gethostname(), os.getpid()
    owner = worker_id(host, pid)
    pool = await open_pool(url, max_size=max(4, min(options.concurrency + 2, 32)))
    try:
        await Worker(url, pool, owner, executors, config, options).run(stop, host, pid)
    finally:
        await pool.close()
        await close_executors(executors)
    return owner


def serve_worker(settings: Settings, url: str, options: WorkerOptions) -> str:
    """``callboard worker``: work on its own loop until SIGTERM or SIGINT; returns this worker's id."""

    async def main() -> str:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        return await run_worker(settings, url, options, stop)

    tune_collector()
    return event_loop.run(main(), use_uvloop=settings.daemon.uvloop)
