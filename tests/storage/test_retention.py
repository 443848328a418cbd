"""Retention: whole finished batches go (older than a date, or beyond a number of runs), running ones
never do, and what is kept stays complete."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callboard.core.models import BatchStatus
from callboard.storage import Store, retention
from callboard.storage.batches_repo import BatchEntry
from callboard.storage.retention import prune
from tests.storage.conftest import http_test


async def _batch(store: Store, label: str, runs: int, *, finished: bool = True) -> int:
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


async def test_a_prune_goes_a_chunk_at_a_time_and_lets_other_writes_in(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "CHUNK_RUNS", 3)
    monkeypatch.setattr(retention, "PAUSE_S", 0)
    old = [await _batch(store, f"old-{index}", 7) for index in range(3)]
    kept = await _batch(store, "kept", 2)
    pruning = asyncio.create_task(prune(store, None, max_runs=2))
    # A write asked for once the prune is under way is done before the prune is: it does not wait
    # for the 21 runs (seven chunks) to go.
    while not pruning.done():
        with sqlite3.connect(store.path) as db:
            if db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] < 23:
                break
        await asyncio.sleep(0)
    await store.tests.upsert_many([http_test("written-meanwhile")])
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] > 2  # doomed runs are still there
    result = await pruning
    assert (result.batches, result.runs, result.vacuumed) == (3, 21, True)
    assert [await store.batches.get(batch_id) for batch_id in old] == [None, None, None]
    assert [b.id for b in await store.batches.list()] == [kept]
    assert await store.tests.get("written-meanwhile") is not None
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2


async def test_a_prune_gives_the_space_back(store: Store) -> None:
    await store.tests.upsert_many([http_test("big")])
    test = await store.tests.get("big")
    assert test is not None
    for _ in range(3):
        batch = (await store.batches.create("big", "cli", 0, {}, [BatchEntry(test, trials=2000)])).batch
        await store.batches.mark_finished(batch.id, BatchStatus.FINISHED)
    with sqlite3.connect(store.path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = store.path.stat().st_size
    result = await prune(store, None, max_runs=2000)
    assert (result.runs, result.vacuumed) == (4000, True)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert store.path.stat().st_size < before * 0.6


async def test_an_older_database_is_vacuumed_whole_once_and_then_in_chunks(tmp_path: Path) -> None:
    # A file made before auto-vacuum was incremental: its first prune runs a full VACUUM, which
    # switches it, so that later prunes need no full VACUUM.
    path = tmp_path / "callboard.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE made_before (x)")
    async with await Store.open(path) as store:
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
        await _batch(store, "a", 5)
        await _batch(store, "b", 5)
        assert (await prune(store, None, max_runs=5)).vacuumed
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
