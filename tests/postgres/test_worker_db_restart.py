"""A database restart in the middle of a batch, with three real `callboard worker` processes running it:
they ride out the outage (claims, heartbeats, results, notices and the batch-finishing role all
reconnect), and the batch ends with every run finished once — none lost, none doubled. The test runs its
own PostgreSQL server (never the session's shared one) so that it can restart it."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_server import PostgresServer, PostgresUnavailable, start_server
from tests.postgres.worker_support import ALL_FINAL, queue_tests, rows, start_worker, until, workers

__all__ = ["workers"]  # the fixture, used by name


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


async def test_workers_finish_a_batch_across_a_database_restart(
    own_server: PostgresServer, state_dir: Path, workers: list[subprocess.Popen[str]]
) -> None:
    url = own_server.create_database()
    count = 45
    steps = [
        {"name": f"step-{n:02d}", "kind": "command", "command": "sleep 1", "checks": [{"exit_code": 0}]}
        for n in range(count)
    ]
    await queue_tests(url, steps)
    for _ in range(3):
        workers.append(start_worker(state_dir, url, "--concurrency", "3", "--lease", "6"))
    await until(url, "SELECT count(*) >= 6 FROM runs WHERE status = 'passed'")
    [[queued, before]] = await rows(
        url, "SELECT count(*) FILTER (WHERE status = 'queued'), (SELECT max(id) FROM events) FROM runs"
    )
    assert int(str(queued)) > 0  # mid-batch
    await asyncio.to_thread(own_server.restart)  # every connection of every worker is cut
    await until(url, ALL_FINAL, timeout_s=180)
    assert [worker.poll() for worker in workers] == [None, None, None]  # alive, not crashed
    assert await rows(url, "SELECT status, count(*) FROM runs GROUP BY 1") == [("passed", count)]
    finished = await rows(
        url, "SELECT count(*), count(DISTINCT payload->>'run_id') FROM events WHERE kind = 'run_finished'"
    )
    assert finished == [(count, count)]  # each run finished once
    after = await rows(
        url,
        f"SELECT count(DISTINCT payload->>'owner') FROM events WHERE kind = 'run_started' AND id > {before}",
    )
    assert after[0][0] >= 2  # the workers went on claiming after the restart
    await until(url, "SELECT bool_and(status = 'finished') FROM batches", timeout_s=60)
