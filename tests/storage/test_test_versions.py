"""Runs refer to stored test versions (migration 0005), and each test knows its newest final run.

The migration test builds a database with the schema of version 4, as callboard wrote it before, with
runs in it, and opens it with today's store.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from callboard.core.models import RunResult, RunStatus, dump_test
from callboard.storage import BatchEntry, ResultWriter, Store, migrate
from callboard.storage.connection import open_connection
from tests.storage.conftest import MakeTest, http_test

_NOW = "2026-05-01T10:00:00.000000+00:00"


async def _database_at_version_4(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = await open_connection(db_path)
    try:
        assert await migrate(conn, target=4) == 4
    finally:
        await conn.close()


def _old_run(conn: sqlite3.Connection, test_id: int | None, name: str, snapshot: dict, status: str) -> int:
    """A runs row as version 4 wrote it: the definition copied into ``snapshot``."""
    finished = None if status == "queued" else _NOW
    cursor = conn.execute(
        "INSERT INTO runs (batch_id, test_id, test_name, test_version, kind, target, status, queued_at,"
        " finished_at, snapshot) VALUES (1, ?, ?, 1, 'http', '', ?, ?, ?, ?)",
        (test_id, name, status, _NOW, finished, json.dumps(snapshot)),
    )
    return int(cursor.lastrowid or 0)


async def test_a_version_4_database_with_runs_keeps_every_snapshot_and_last_result(db_path: Path) -> None:
    await _database_at_version_4(db_path)
    first = dump_test(http_test("greets", checks=[{"status": 200}]))
    current = dump_test(http_test("greets", checks=[{"status": 201}]))
    gone = dump_test(http_test("deleted-since"))
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO tests (name, kind, tags, definition, digest, version, created_at, updated_at)"
            " VALUES ('greets', 'http', '[]', ?, 'd2', 2, ?, ?)",
            (json.dumps(current), _NOW, _NOW),
        )
        conn.execute("INSERT INTO batches (label, source, created_at) VALUES ('old', 'cli', ?)", (_NOW,))
        old = _old_run(conn, 1, "greets", first, "failed")
        newest_final = _old_run(conn, 1, "greets", current, "passed")
        queued = _old_run(conn, 1, "greets", current, "queued")
        orphan = _old_run(conn, None, "deleted-since", gone, "passed")

    async with await Store.open(db_path) as store:
        runs = {run_id: await store.runs.get(run_id) for run_id in (old, newest_final, queued, orphan)}
        last = await store.runs.last_results()
        test = await store.tests.get("greets")
        assert test is not None
        created = await store.batches.create("new", "cli", 0, {}, [BatchEntry(test)])
        fresh = await store.runs.get(created.runs[0].id)

    assert {run_id: run.snapshot for run_id, run in runs.items() if run} == {
        old: first,
        newest_final: current,
        queued: current,
        orphan: gone,
    }
    assert last == {1: (RunStatus.PASSED, None, datetime.fromisoformat(_NOW))}
    assert fresh is not None and fresh.snapshot == current
    with sqlite3.connect(db_path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        versions = conn.execute("SELECT COUNT(*) FROM test_versions").fetchone()[0]
        shared = conn.execute("SELECT COUNT(DISTINCT version_id) FROM runs WHERE test_id = 1").fetchone()[0]
    assert "snapshot" not in columns
    assert versions == 3  # the current definition (shared by its runs), the older one, the deleted test's
    assert shared == 2


async def test_runs_refer_to_the_version_they_ran_and_history_survives_changes(
    store: Store, make_test: MakeTest, db_path: Path
) -> None:
    await store.tests.upsert_many([make_test("a", checks=[{"status": 200}])])
    before = await store.tests.get("a")
    assert before is not None
    first = await store.batches.create("one", "cli", 0, {}, [BatchEntry(before, trials=3)])
    await store.tests.upsert_many([make_test("a", checks=[{"status": 204}])])
    after = await store.tests.get("a")
    assert after is not None
    second = await store.batches.create("two", "cli", 0, {}, [BatchEntry(after)])

    old_runs = [await store.runs.get(run.id) for run in first.runs]
    new_run = await store.runs.get(second.runs[0].id)
    assert {json.dumps(run.snapshot["checks"]) for run in old_runs if run} == {'[{"status": 200}]'}
    assert new_run is not None and new_run.snapshot["checks"] == [{"status": 204}]
    with sqlite3.connect(db_path) as conn:
        # Three trials share one version: the definition is stored once, not per run.
        assert conn.execute("SELECT COUNT(*) FROM test_versions").fetchone()[0] == 2


async def test_the_last_result_follows_finishes_cancels_and_skips(
    store: Store, make_test: MakeTest, db_path: Path
) -> None:
    await store.tests.upsert_many([make_test("a"), make_test("b"), make_test("c")])
    tests = await store.tests.list()
    entries = [BatchEntry(tests[0]), BatchEntry(tests[1]), BatchEntry(tests[2], skip_reason="no phone")]
    created = await store.batches.create("b", "cli", 0, {}, entries)
    first, second, _ = (run.id for run in created.runs)
    assert {result.status for result in (await store.runs.last_results()).values()} == {RunStatus.SKIPPED}

    writer = await ResultWriter.start(db_path)
    try:
        started = datetime.now(UTC)
        assert await writer.mark_started(first, 1, started)
        assert await writer.finish(first, 1, RunResult(status=RunStatus.FAILED), started, 5.0)
        assert await writer.cancel_queued([second]) == [second]
    finally:
        await writer.close()

    last = await store.runs.last_results()
    assert {test_id: result.status for test_id, result in last.items()} == {
        tests[0].id: RunStatus.FAILED,
        tests[1].id: RunStatus.CANCELLED,
        tests[2].id: RunStatus.SKIPPED,
    }
