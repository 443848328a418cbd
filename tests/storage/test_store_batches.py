"""The batches repository: one transaction per batch with all its runs, counts and pages."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from callboard.core.models import BatchStatus, RunStatus, StoredTest, TestDefinition, dump_test, parse_test
from callboard.storage import BatchEntry, Store, StoreError

MakeTest = Callable[..., TestDefinition]


async def _stored(store: Store, *tests: TestDefinition) -> list[StoredTest]:
    await store.tests.upsert_many(list(tests))
    found = [await store.tests.get(test.name) for test in tests]
    assert all(test is not None for test in found)
    return [test for test in found if test is not None]


async def test_create_queues_one_run_per_trial_with_a_snapshot(store: Store, make_test: MakeTest) -> None:
    urgent, plain = await _stored(store, make_test("urgent", priority=10), make_test("plain", tags=["smoke"]))
    call = parse_test({"name": "no-phone", "kind": "call", "caller": [{"say": "hello"}]})
    [no_phone] = await _stored(store, call)

    created = await store.batches.create(
        "nightly",
        "cli",
        5,
        {"tag": "smoke"},
        [
            BatchEntry(urgent, trials=2, max_attempts=3),
            BatchEntry(plain),
            BatchEntry(no_phone, skip_reason="no phone number"),
        ],
    )
    batch = created.batch

    assert (batch.label, batch.source, batch.status, batch.priority) == (
        "nightly",
        "cli",
        BatchStatus.RUNNING,
        5,
    )
    assert batch.selector == {"tag": "smoke"}
    assert batch.counts.total == 4 and batch.counts.queued == 3 and batch.counts.skipped == 1
    runs = sorted(await store.runs.page(batch_id=batch.id), key=lambda run: run.id)
    assert [(run.test_name, run.trial) for run in runs] == [
        ("urgent", 1),
        ("urgent", 2),
        ("plain", 1),
        ("no-phone", 1),
    ]
    first = runs[0]
    assert first.status is RunStatus.QUEUED and first.attempt == 0 and first.max_attempts == 3
    assert (first.test_id, first.test_version, first.kind) == (urgent.id, 1, "http")
    assert first.target == "http://127.0.0.1:8700/chat"
    assert first.priority == 15  # batch 5 + test 10
    assert first.snapshot == dump_test(urgent.definition)
    assert first.finished_at is None and first.queued_at == batch.created_at
    skipped = runs[3]
    assert skipped.status is RunStatus.SKIPPED and skipped.skip_reason == "no phone number"
    # What creation hands back is what was stored: ids with their test, summed priority and status.
    assert [(run.id, run.test_id, run.priority, run.queued) for run in created.runs] == [
        (run.id, run.test_id, run.priority, run.status is RunStatus.QUEUED) for run in runs
    ]
    assert [run.priority for run in created.runs] == [15, 15, 5, 5]
    assert skipped.finished_at == batch.created_at and skipped.target == ""
    assert await store.batches.get(batch.id) == batch


async def test_snapshots_keep_history_when_the_test_changes(store: Store, make_test: MakeTest) -> None:
    [old] = await _stored(store, make_test("a"))
    batch = (await store.batches.create("before", "cli", 0, {}, [BatchEntry(old)])).batch
    await store.tests.upsert_many([make_test("a", checks=[{"status": 204}])])

    [run] = await store.runs.page(batch_id=batch.id)

    assert run.snapshot["checks"] == [{"status": 200}]
    assert run.test_version == 1


async def test_a_test_changed_since_it_was_read_aborts_the_whole_batch(
    store: Store, make_test: MakeTest
) -> None:
    kept, changed = await _stored(store, make_test("kept"), make_test("changed"))
    await store.tests.upsert_many([make_test("changed", tags=["new"])])

    with pytest.raises(StoreError, match="select them again"):
        await store.batches.create("stale", "cli", 0, {}, [BatchEntry(kept), BatchEntry(changed)])

    assert await store.batches.list() == []
    assert await store.runs.count() == 0


async def test_deleted_tests_detach_their_runs_and_deleting_a_batch_deletes_its_runs(
    store: Store, db_path: Path, make_test: MakeTest
) -> None:
    [test] = await _stored(store, make_test("a"))
    batch = (await store.batches.create("b", "cli", 0, {}, [BatchEntry(test, trials=2)])).batch

    await store.tests.delete([test.id])

    runs = await store.runs.page(batch_id=batch.id)
    assert [run.test_id for run in runs] == [None, None]
    assert {run.test_name for run in runs} == {"a"}
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM batches WHERE id = ?", (batch.id,))
    assert await store.runs.count() == 0


async def test_entries_need_at_least_one_trial_and_attempt(store: Store, make_test: MakeTest) -> None:
    [test] = await _stored(store, make_test("a"))
    with pytest.raises(ValueError, match="at least 1"):
        BatchEntry(test, trials=0)
    with pytest.raises(ValueError, match="at least 1"):
        BatchEntry(test, max_attempts=0)


async def test_list_pages_newest_first_with_counts_and_status(store: Store, make_test: MakeTest) -> None:
    [test] = await _stored(store, make_test("a"))
    ids = [
        (await store.batches.create(f"b{n}", "api", 0, {}, [BatchEntry(test, trials=n)])).batch.id
        for n in (1, 2, 3)
    ]

    newest = await store.batches.list(limit=2)
    assert [batch.id for batch in newest] == [ids[2], ids[1]]
    assert [batch.counts.total for batch in newest] == [3, 2]
    older = await store.batches.list(limit=2, before_id=newest[-1].id)
    assert [batch.id for batch in older] == [ids[0]]

    assert await store.batches.mark_finished(ids[0], BatchStatus.CANCELLED)
    assert [b.id for b in await store.batches.list(status=BatchStatus.RUNNING)] == [ids[2], ids[1]]
    assert [b.id for b in await store.batches.list(status="cancelled")] == [ids[0]]


async def test_counts_and_mark_finished(store: Store, make_test: MakeTest) -> None:
    [test] = await _stored(store, make_test("a"))
    batch = (await store.batches.create("b", "cli", 0, {}, [BatchEntry(test, trials=4)])).batch

    counts = await store.batches.counts(batch.id)
    assert (counts.total, counts.queued, counts.done, counts.pass_rate) == (4, 4, 0, None)
    assert await store.batches.mark_finished(batch.id)

    finished = await store.batches.get(batch.id)
    assert finished is not None
    assert finished.status is BatchStatus.FINISHED and finished.finished_at is not None
    assert not await store.batches.mark_finished(9999)
    with pytest.raises(ValueError, match="not running"):
        await store.batches.mark_finished(batch.id, "running")
    assert await store.batches.get(9999) is None
    assert await store.batches.counts(9999) == type(counts)()


async def test_a_batch_of_ten_thousand_runs_is_one_transaction(store: Store, db_path: Path) -> None:
    definitions = [
        parse_test({"name": f"t{n:05d}", "kind": "command", "command": f"echo {n}"}) for n in range(10_000)
    ]
    await store.tests.upsert_many(definitions)
    tests = await store.tests.list()

    batch = (
        await store.batches.create("all", "tui", 0, {"all": True}, [BatchEntry(test) for test in tests])
    ).batch

    assert batch.counts.total == batch.counts.queued == 10_000
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT test_name, target, definition FROM runs"
            " JOIN test_versions ON test_versions.id = runs.version_id ORDER BY runs.id"
        ).fetchall()
    assert [row[0] for row in rows] == [test.name for test in tests]
    assert rows[42][1] == "echo 42"
    assert json.loads(rows[42][2]) == dump_test(tests[42].definition)
