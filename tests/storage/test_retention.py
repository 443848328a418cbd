"""Retention: whole finished batches go (older than a date, or beyond a number of runs), running ones
never do, and what is kept stays complete."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from callboard.core.models import BatchStatus
from callboard.storage import Store
from callboard.storage.batches_repo import BatchEntry
from callboard.storage.retention import prune
from tests.storage.conftest import http_test


async def _batch(store: Store, label: str, runs: int, finished: bool = True) -> int:
    await store.tests.upsert_many([http_test(label)])
    test = await store.tests.get(label)
    assert test is not None
    batch = (await store.batches.create(label, "cli", 0, {}, [BatchEntry(test, trials=runs)])).batch
    if finished:
        await store.batches.mark_finished(batch.id, BatchStatus.FINISHED)
    return batch.id


async def test_prune_by_runs_and_age(store: Store) -> None:
    first = await _batch(store, "a", 5)
    running = await _batch(store, "b", 5, finished=False)
    third = await _batch(store, "c", 5)
    fourth = await _batch(store, "d", 5)
    result = await prune(store, None, max_runs=10)
    # Newest first: d (5), c (10) are kept; b is over the cap but still running; a goes.
    assert (result.batches, result.runs, result.vacuumed) == (1, 5, True)
    assert await store.batches.get(first) is None
    assert {b.id for b in await store.batches.list()} == {running, third, fourth}
    assert (await store.batches.get(third)).counts.total == 5  # type: ignore[union-attr]
    nothing = await prune(store, datetime.now(UTC) - timedelta(days=1), None)
    assert (nothing.batches, nothing.vacuumed) == (0, False)
    aged = await prune(store, datetime.now(UTC) + timedelta(seconds=1), None)
    assert aged.batches == 2 and [b.id for b in await store.batches.list()] == [running]
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 5
