"""Each check's label (name, expected, weight) is stored once per distinct list of labels (migration
0006); a run stores only its own part, and every reader gets the same checks as before.

The migration test builds a database with the schema of version 5, as callboard wrote it before, with
finished runs in it, and opens it with today's store.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callboard.core.models import CheckResult, RunResult, RunStatus
from callboard.storage import BatchEntry, ResultWriter, Store, migrate
from callboard.storage.check_labels import encode_checks, join_checks
from callboard.storage.connection import open_connection
from callboard.storage.retention import prune
from tests.storage.conftest import http_test

_NOW = "2026-05-01T10:00:00.000000+00:00"

_CHECKS = [
    CheckResult(name="status=200", passed=True, expected=200, actual=200),
    CheckResult(name="jsonpath='$.reply', contains='open'", passed=False, expected="contains 'open'",
                actual="We are closed.", message="no 'open' in the reply", weight=2.0),
    CheckResult(name="jsonpath='$.id', exists=True", passed=True, expected="exists True"),
]  # fmt: skip


async def _finish(db_path: Path, run_id: int, checks: list[CheckResult]) -> None:
    writer = await ResultWriter.start(db_path)
    try:
        started = datetime.now(UTC)
        assert await writer.mark_started(run_id, 1, started)
        result = RunResult(status=RunStatus.FAILED, checks=checks, metrics={"latency_ms": 12.5})
        assert await writer.finish(run_id, 1, result, started, 12.5)
    finally:
        await writer.close()


async def _new_run(store: Store, name: str) -> int:
    test = await store.tests.get(name)
    assert test is not None
    created = await store.batches.create("b", "cli", 0, {}, [BatchEntry(test)])
    return created.runs[0].id


def _stored_checks(db_path: Path, run_id: int) -> str:
    with sqlite3.connect(db_path) as conn:
        return str(conn.execute("SELECT checks FROM runs WHERE id = ?", (run_id,)).fetchone()[0])


async def test_a_version_5_database_with_runs_reads_the_same_checks_and_new_runs_share_labels(
    db_path: Path,
) -> None:
    db_path.parent.mkdir(parents=True)
    conn = await open_connection(db_path)
    try:
        assert await migrate(conn, target=5) == 5
    finally:
        await conn.close()
    whole = json.dumps([check.model_dump(exclude_defaults=True) for check in _CHECKS])
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO tests (name, kind, tags, definition, digest, version, created_at, updated_at)"
            " VALUES ('greets', 'http', '[]', ?, 'd1', 1, ?, ?)",
            (json.dumps({"name": "greets", "kind": "http", "request": {"url": "http://x/"}}), _NOW, _NOW),
        )
        conn.execute("INSERT INTO batches (label, source, created_at) VALUES ('old', 'cli', ?)", (_NOW,))
        old = conn.execute(
            "INSERT INTO runs (batch_id, test_id, test_name, test_version, kind, status, queued_at,"
            " finished_at, checks, version_id) VALUES (1, 1, 'greets', 1, 'http', 'failed', ?, ?, ?,"
            " (SELECT version_id FROM tests WHERE id = 1))",
            (_NOW, _NOW, whole),
        ).lastrowid
        assert old is not None

    async with await Store.open(db_path) as store:
        old_run = await store.runs.get(old)
        first, second = await _new_run(store, "greets"), await _new_run(store, "greets")
        await _finish(db_path, first, _CHECKS)
        await _finish(db_path, second, _CHECKS)
        new_runs = [await store.runs.get(first), await store.runs.get(second)]
        listed = await store.runs.page(limit=10)

    assert old_run is not None and old_run.checks == _CHECKS
    assert [run.checks for run in new_runs if run] == [_CHECKS, _CHECKS]
    assert {run.id: run.checks for run in listed} == {old: _CHECKS, first: _CHECKS, second: _CHECKS}
    assert _stored_checks(db_path, old) == whole  # history is not rewritten
    assert json.loads(_stored_checks(db_path, second)) == [
        0b101,  # bit i: check i passed
        [200, "We are closed."],
        {"1": "no 'open' in the reply"},
    ]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM check_labels").fetchone()[0] == 1


async def test_tests_with_the_same_checks_share_labels_and_other_labels_get_their_own(
    store: Store, db_path: Path
) -> None:
    await store.tests.upsert_many([http_test("a"), http_test("b")])
    first, second = await _new_run(store, "a"), await _new_run(store, "b")
    empty, third = await _new_run(store, "a"), await _new_run(store, "b")
    renamed = [check.model_copy(update={"name": f"{check.name} (again)"}) for check in _CHECKS]
    await _finish(db_path, first, _CHECKS)
    await _finish(db_path, second, renamed)
    await _finish(db_path, empty, [])
    await _finish(db_path, third, _CHECKS)

    runs = [await store.runs.get(run_id) for run_id in (first, second, empty, third)]
    assert [run.checks for run in runs if run] == [_CHECKS, renamed, [], _CHECKS]
    assert _stored_checks(db_path, empty) == "[]"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM check_labels").fetchone()[0] == 2
        named = conn.execute("SELECT labels_id FROM runs ORDER BY id").fetchall()
    assert named[0] == named[3] != named[1] and named[2] == (None,)


async def _finish_batch(db_path: Path, batch_id: int) -> None:
    writer = await ResultWriter.start(db_path)
    try:
        assert await writer.finish_batch(batch_id, "finished")
    finally:
        await writer.close()


async def test_pruning_the_last_run_naming_labels_drops_them(store: Store, db_path: Path) -> None:
    await store.tests.upsert_many([http_test("gone"), http_test("stays")])
    old, new = await _new_run(store, "gone"), await _new_run(store, "stays")
    for run_id in (old, new):
        await _finish(db_path, run_id, _CHECKS)
        run = await store.runs.get(run_id)
        assert run is not None
        await _finish_batch(db_path, run.batch_id)

    assert (await prune(store, older_than=None, max_runs=1)).runs == 1
    kept = await store.runs.get(new)
    assert kept is not None and kept.checks == _CHECKS  # the list both named is still there
    assert (await prune(store, older_than=None, max_runs=0)).runs == 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM check_labels").fetchone()[0] == 0


def test_passes_are_stored_as_bits_and_the_older_string_form_still_reads() -> None:
    labels = json.loads(encode_checks(_CHECKS).labels or "")
    own = json.loads(encode_checks(_CHECKS).own)
    assert own[0] == 0b101
    joined = join_checks(labels, own)
    assert joined == join_checks(labels, ["101", *own[1:]])  # as runs stored before 0009 say it
    assert [CheckResult.model_validate(check) for check in joined] == _CHECKS
    with pytest.raises(ValueError, match="3 labels"):
        join_checks(labels, [0b1000, *own[1:]])


def test_more_checks_than_a_json_number_holds_keep_a_string_of_passes() -> None:
    many = [CheckResult(name=f"c{index}", passed=index % 3 == 0) for index in range(60)]
    encoded = encode_checks(many)
    own = json.loads(encoded.own)
    assert own[0] == "".join("1" if index % 3 == 0 else "0" for index in range(60))
    joined = join_checks(json.loads(encoded.labels or ""), own)
    assert [CheckResult.model_validate(check) for check in joined] == many


def test_odd_values_encode_the_same_way_each_time_and_join_back() -> None:
    # pydantic-core encodes these lists; what it refuses (a lone surrogate, which a reply's JSON can
    # hold) goes through json instead, so no check result fails to encode.
    odd = [
        CheckResult(name="big", passed=True, expected=10**30, actual=1e-7),
        CheckResult(name="jsonpath='$.reply', contains='é'", passed=False, expected="contains 'é'",
                    actual="lone \ud800 surrogate", message="does not contain 'é' \u2028"),
        CheckResult(name="nested", passed=True, expected={"a": [1, "x", None]}, actual=[True, 2.5]),
    ]  # fmt: skip
    encoded = encode_checks(odd)
    assert encode_checks(odd) == encoded  # labels are found by their text
    joined = join_checks(json.loads(encoded.labels or ""), json.loads(encoded.own))
    assert [CheckResult.model_validate(check) for check in joined] == odd


async def test_whole_metric_values_are_stored_as_integers_and_read_back_as_floats(
    store: Store, db_path: Path
) -> None:
    await store.tests.upsert_many([http_test("greets")])
    run_id = await _new_run(store, "greets")
    writer = await ResultWriter.start(db_path)
    try:
        started = datetime.now(UTC)
        assert await writer.mark_started(run_id, 1, started)
        metrics = {"status": 200.0, "latency_ms": 12.5, "bytes": 0.0}
        assert await writer.finish(
            run_id, 1, RunResult(status=RunStatus.PASSED, metrics=metrics), started, 1.0
        )
    finally:
        await writer.close()

    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT metrics FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
    assert stored == '{"status":200,"latency_ms":12.5,"bytes":0}'
    run = await store.runs.get(run_id)
    assert run is not None and run.metrics == metrics
    assert all(isinstance(value, float) for value in run.metrics.values())
