"""Shared pieces of the tests that run real `callboard worker` processes on PostgreSQL: starting and
stopping workers, queueing a batch into the store as the API does, and polling the database for
outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import AsyncConnection

from callboard.core.engine.planner import BatchPlanner
from callboard.core.engine.selection import choose
from callboard.core.models import parse_test
from callboard.core.models.selection import Selection
from callboard.storage.postgres.store import PgStore

ALL_FINAL = "SELECT count(*) > 0 AND bool_and(status NOT IN ('queued', 'running')) FROM runs"


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[str]]]:
    """Worker processes the test starts (appended to the list); all are stopped afterwards."""
    started: list[subprocess.Popen[str]] = []
    yield started
    stop_workers(started)


def stop_workers(started: list[subprocess.Popen[str]]) -> None:
    """SIGTERM each worker still running, then SIGKILL what has not stopped within 30 s."""
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_worker(
    state_dir: Path, pg_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """A `callboard worker` process on ``pg_url`` (its log in the state dir)."""
    env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir), "CALLBOARD_STORE__URL": pg_url, **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "callboard.core", "worker", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(state_dir / f"worker-{time.monotonic_ns()}.log").open("w"),
        text=True,
    )


async def queue_tests(url: str, tests: list[dict[str, Any]]) -> int:
    """Import ``tests`` and queue all of them as one batch straight into the store, as the API's
    batch creation does (``choose``, ``BatchPlanner``, ``batches.create``); returns the batch's id."""
    async with await PgStore.open(url) as store:
        await store.tests.upsert_many([parse_test(test) for test in tests])
        chosen = choose(await store.tests.list(), Selection(all=True))
        planner = BatchPlanner({"call", "command", "http", "conversation", "voice"})
        entries = [planner.entry(test, None) for test in chosen]
        created = await store.batches.create("all tests", "test", 0, {"all": True}, entries)
        return created.batch.id


async def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """The rows ``sql`` returns on a connection of its own."""
    async with await AsyncConnection.connect(url) as conn:
        return list(await (await conn.execute(sql.encode())).fetchall())


async def until(url: str, sql: str, timeout_s: float = 120) -> None:
    """Until ``sql`` returns true (polled)."""
    deadline = time.monotonic() + timeout_s
    while not (await rows(url, sql))[0][0]:
        assert time.monotonic() < deadline, f"still not true: {sql}"
        await asyncio.sleep(0.1)
