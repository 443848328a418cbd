"""Fixtures for the store tests: a real database file per test, and small suites to put in it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from callboard.core.models import TestDefinition, parse_test
from callboard.storage import BatchEntry, ResultWriter, Store

MakeTest = Callable[..., TestDefinition]


def http_test(name: str, **fields: Any) -> TestDefinition:
    """An HTTP test named ``name``; ``fields`` override or extend the suite entry."""
    entry: dict[str, Any] = {
        "name": name,
        "kind": "http",
        "request": {"method": "POST", "url": "http://127.0.0.1:8700/chat", "json": {"message": "hi"}},
        "checks": [{"status": 200}],
    }
    return parse_test({**entry, **fields})


@pytest.fixture
def make_test() -> MakeTest:
    """Factory for HTTP test definitions."""
    return http_test


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where this test's database lives (its folder does not exist yet)."""
    return tmp_path / "state" / "callboard.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """An open store on a fresh database."""
    async with await Store.open(db_path) as opened:
        yield opened


QueueRuns = Callable[..., Awaitable[list[int]]]


@pytest.fixture
def queue_runs(store: Store) -> QueueRuns:
    """Import tests t0..t{count-1} and queue one batch with ``trials`` runs of each; returns the run ids."""

    async def queue(count: int = 3, trials: int = 1, max_attempts: int = 1) -> list[int]:
        names = [f"t{index}" for index in range(count)]
        await store.tests.upsert_many([http_test(name) for name in names])
        entries = []
        for name in names:
            test = await store.tests.get(name)
            assert test is not None
            entries.append(BatchEntry(test, trials, None, max_attempts))
        batch = (await store.batches.create("queued", "cli", 0, {}, entries)).batch
        return sorted(run.id for run in await store.runs.page(batch_id=batch.id, limit=count * trials))

    return queue


@pytest.fixture
async def writer(store: Store) -> AsyncIterator[ResultWriter]:
    """A result writer on the store's database (a short tick keeps the tests quick)."""
    started = await ResultWriter.start(store.path, tick_ms=1.0)
    yield started
    await started.close()
