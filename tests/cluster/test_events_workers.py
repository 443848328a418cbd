"""The API's events from real `callboard worker` processes: a daemon queues a batch (started --no-worker,
it runs nothing itself), two workers run it, and a feed on the same database tells every run's start and end
with the test's name, then the batch's end with its counts."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from callboard.core.cluster.events import OutboxEvents
from callboard.core.models import RunStatus
from callboard.core.models.events import BatchFinished, BatchProgress, RunFinished, RunStarted
from callboard.storage.postgres.connection import open_pool
from tests.conftest import CliRunner
from tests.postgres.worker_support import start_worker, workers

__all__ = ["workers"]  # the fixture, used by name

_GUARD_S = 120.0  # against a hang only


@pytest.fixture
async def pool(pg_url: str) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    opened = await open_pool(pg_url, max_size=4)
    yield opened
    await opened.close()


async def test_workers_runs_arrive_as_the_apis_events(
    run_cli: CliRunner,
    pg_url: str,
    state_dir: Path,
    tmp_path: Path,
    pool: AsyncConnectionPool[AsyncConnection],
    workers: list[subprocess.Popen[str]],
) -> None:
    suite = tmp_path / "steps.toml"
    suite.write_text(
        "\n".join(
            f'[[test]]\nname = "step-{n}"\nkind = "command"\ncommand = "exit {n % 2}"\n'
            "checks = [{ exit_code = 0 }]\n"
            for n in range(6)
        )
    )
    env = {"CALLBOARD_STORE__URL": pg_url}
    for args in (("daemon", "--detach", "--no-worker"), ("import", str(suite)), ("run", "--all")):
        done = run_cli(*args, env=env, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    feed = OutboxEvents(pg_url, pool)
    await feed.start()
    events = feed.subscribe(0)  # from the start: the batch was queued before the feed started
    try:
        workers.extend(start_worker(state_dir, pg_url, "--concurrency", "2") for _ in range(2))
        seen = []
        async with asyncio.timeout(_GUARD_S):
            async for event in events:
                seen.append(event)
                if isinstance(event, BatchFinished):
                    break
    finally:
        await events.aclose()
        await feed.close()

    started = {e.test_name for e in seen if isinstance(e, RunStarted)}
    finished = {e.test_name: e.status for e in seen if isinstance(e, RunFinished)}
    assert started == {f"step-{n}" for n in range(6)}
    assert finished == {f"step-{n}": RunStatus.PASSED if n % 2 == 0 else RunStatus.FAILED for n in range(6)}
    progress, end = seen[-2:]
    assert isinstance(progress, BatchProgress) and isinstance(end, BatchFinished)
    assert (progress.done, progress.total) == (6, 6)
    assert (end.total, end.passed, end.failed, end.error, end.status) == (6, 3, 3, 0, "finished")
