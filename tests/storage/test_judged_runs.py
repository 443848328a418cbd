"""Trends and flaky tests read judged_runs (migration 0009), kept by triggers on runs: a database made by
the schema before it, with history, reads the same after it, and every later write (a finish, a cancel,
a prune) keeps the table in step with the runs.

The expected figures are computed in Python from the runs table itself, by the rules the history
repository documents, so the test does not trust the table it checks.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from callboard.core.models import CheckResult, RunResult, RunStatus, dump_test
from callboard.storage import BatchEntry, ResultWriter, Store, migrate
from callboard.storage.connection import open_connection
from callboard.storage.retention import prune
from tests.storage.conftest import http_test

_NOW = "2026-05-01T10:00:00.000000+00:00"
_JUDGED = ("passed", "failed", "error")

# (test name, test version, statuses of its trials) per batch, oldest batch first.
_HISTORY: list[list[tuple[str, int, list[str]]]] = [
    [("greets", 1, ["passed"]), ("books", 1, ["failed", "passed"])],
    [("greets", 1, ["failed"]), ("books", 1, ["error"])],
    [("greets", 2, ["cancelled"]), ("books", 2, ["passed", "passed"])],
    [("greets", 2, ["passed"]), ("books", 2, ["skipped", "failed"])],
    [("greets", 2, ["error", "passed"]), ("books", 2, ["passed"])],
]


def _runs(db_path: Path) -> list[tuple[int, int, str, str, float | None, int]]:
    with sqlite3.connect(db_path) as db:
        return db.execute(
            "SELECT id, batch_id, test_name, status, score, test_version FROM runs ORDER BY batch_id, id"
        ).fetchall()


def _expected_batches(db_path: Path, last: int, name: str | None = None) -> list[tuple[object, ...]]:
    per_batch: dict[str, dict[int, list[tuple[str, float | None]]]] = defaultdict(dict)
    for _, batch_id, test_name, status, score, _ in _runs(db_path):
        if status in _JUDGED and name in (None, test_name):
            per_batch[test_name].setdefault(batch_id, []).append((status, score))
    rows = []
    for test_name in sorted(per_batch):
        for batch_id in sorted(per_batch[test_name])[-last:]:
            runs = per_batch[test_name][batch_id]
            scores = [score for _, score in runs if score is not None]
            average = sum(scores) / len(scores) if scores else None
            passed = sum(status == "passed" for status, _ in runs)
            rows.append((test_name, batch_id, len(runs), passed, average))
    return rows


def _expected_versions(db_path: Path, window: int, name: str | None = None) -> list[tuple[object, ...]]:
    verdicts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for _, _, test_name, status, _, version in _runs(db_path):  # oldest first
        if status in ("passed", "failed") and name in (None, test_name):
            verdicts[test_name].append((version, status))
    rows = []
    for test_name in sorted(verdicts):
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for version, status in verdicts[test_name][-window:]:
            counts[version][0 if status == "passed" else 1] += 1
        rows.extend((test_name, version, *counts[version]) for version in sorted(counts, reverse=True))
    return rows


async def _assert_history_matches_runs(store: Store, db_path: Path) -> None:
    for last in (1, 2, 3, 10):
        got = [tuple(row) for row in await store.history.batch_verdicts(last)]
        assert got == _expected_batches(db_path, last), last
        got = [tuple(row) for row in await store.history.version_verdicts(last)]
        assert got == _expected_versions(db_path, last), last
    for name in ("greets", "books", "nobody"):
        got = [tuple(row) for row in await store.history.batch_verdicts(2, name)]
        assert got == _expected_batches(db_path, 2, name)
        got = [tuple(row) for row in await store.history.version_verdicts(3, name)]
        assert got == _expected_versions(db_path, 3, name)


def _judged_rows(db_path: Path) -> set[tuple[object, ...]]:
    with sqlite3.connect(db_path) as db:
        return set(
            db.execute(
                "SELECT run_names.name, batch_id, run_id, passed, score, test_version"
                " FROM judged_runs JOIN run_names ON run_names.id = judged_runs.name_id"
            ).fetchall()
        )


def _judged_from_runs(db_path: Path) -> set[tuple[object, ...]]:
    verdict = {"passed": 1, "failed": 0, "error": None}
    return {
        (name, batch_id, run_id, verdict[status], score, version)
        for run_id, batch_id, name, status, score, version in _runs(db_path)
        if status in _JUDGED
    }


async def _database_at_version_8_with_history(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = await open_connection(db_path)
    try:
        assert await migrate(conn, target=8) == 8
    finally:
        await conn.close()
    with sqlite3.connect(db_path) as db:
        for batch_id, tests in enumerate(_HISTORY, 1):
            db.execute(
                "INSERT INTO batches (id, label, source, status, created_at) VALUES (?, 'nightly', 'cli',"
                " 'finished', ?)",
                (batch_id, _NOW),
            )
            for name, version, statuses in tests:
                for trial, status in enumerate(statuses, 1):
                    score = {"passed": 100.0, "failed": 40.0}.get(status)
                    db.execute(
                        "INSERT INTO runs (batch_id, test_name, test_version, kind, trial, status, score,"
                        " queued_at, finished_at) VALUES (?, ?, ?, 'http', ?, ?, ?, ?, ?)",
                        (batch_id, name, version, trial, status, score, _NOW, _NOW),
                    )


async def test_a_version_8_database_with_runs_reads_the_same_trends_after_0009(db_path: Path) -> None:
    await _database_at_version_8_with_history(db_path)
    runs_before = _runs(db_path)

    async with await Store.open(db_path) as store:
        await _assert_history_matches_runs(store, db_path)

    assert _runs(db_path) == runs_before
    assert _judged_rows(db_path) == _judged_from_runs(db_path)
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 9
        indexes = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall())
        names = [row[0] for row in db.execute("SELECT name FROM run_names ORDER BY name")]
    assert "runs_judged_by_name" not in indexes
    # SQLite ends each index entry with the rowid: these no longer store runs.id twice.
    assert indexes["runs_by_status"].endswith("(status)")
    assert indexes["runs_by_batch"].endswith("(batch_id)")
    assert indexes["runs_by_test"].endswith("(test_id)")
    assert names == ["books", "greets"]


async def test_finishes_cancels_and_prunes_keep_judged_runs_in_step(db_path: Path) -> None:
    await _database_at_version_8_with_history(db_path)
    async with await Store.open(db_path) as store:
        await store.tests.upsert_many([http_test("greets"), http_test("fresh")])
        entries = []
        for name in ("greets", "fresh"):
            test = await store.tests.get(name)
            assert test is not None
            entries.append(BatchEntry(test, 2, None, 1))
        created = await store.batches.create("today", "cli", 0, {}, entries)
        run_ids = sorted(run.id for run in created.runs)

        writer = await ResultWriter.start(db_path, tick_ms=1.0)
        try:
            started = datetime.now(UTC)
            outcomes = [RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR]
            for run_id, status in zip(run_ids, outcomes, strict=False):
                assert await writer.mark_started(run_id, 1, started)
                check = CheckResult(name="status=200", passed=status is RunStatus.PASSED)
                result = RunResult(status=status, checks=[check] if status is not RunStatus.ERROR else [])
                assert await writer.finish(run_id, 1, result, started, 5.0)
            assert await writer.cancel_queued([run_ids[3]]) == [run_ids[3]]
        finally:
            await writer.close()

        assert _judged_rows(db_path) == _judged_from_runs(db_path)
        await _assert_history_matches_runs(store, db_path)

        # Keep only the newest batch: "books" has no judged run left, so its name goes too.
        result = await prune(store, None, 4)
        assert result.batches == len(_HISTORY)
        assert _judged_rows(db_path) == _judged_from_runs(db_path)
        await _assert_history_matches_runs(store, db_path)
    with sqlite3.connect(db_path) as db:
        names = [row[0] for row in db.execute("SELECT name FROM run_names ORDER BY name")]
    assert names == ["fresh", "greets"]


async def test_check_label_lists_count_their_runs_after_0009_and_a_prune_drops_the_unused(
    db_path: Path,
) -> None:
    db_path.parent.mkdir(parents=True)
    conn = await open_connection(db_path)
    try:
        assert await migrate(conn, target=8) == 8
    finally:
        await conn.close()
    lists = {name: f'[{{"name":"{name}","expected":200}}]' for name in ("first", "shared", "never")}
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO tests (name, kind, tags, definition, digest, version, created_at, updated_at)"
            " VALUES ('greets', 'http', '[]', ?, 'd1', 1, ?, ?)",
            (json.dumps(dump_test(http_test("greets"))), _NOW, _NOW),
        )
        ids = {name: db.execute("INSERT INTO check_labels (labels) VALUES (?)", (text,)).lastrowid
               for name, text in lists.items()}  # fmt: skip
        for batch_id, named in ((1, ["first", "first", "shared"]), (2, ["shared"])):
            db.execute(
                "INSERT INTO batches (id, label, source, status, created_at) VALUES (?, 'b', 'cli',"
                " 'finished', ?)",
                (batch_id, _NOW),
            )
            for name in named:
                db.execute(
                    "INSERT INTO runs (batch_id, test_name, test_version, kind, status, score, queued_at,"
                    " checks, labels_id, version_id)"
                    " VALUES (?, 'greets', 1, 'http', 'passed', 100, ?, ?, ?, 1)",
                    (batch_id, _NOW, '["1",[200]]', ids[name]),
                )

    async with await Store.open(db_path) as store:
        with sqlite3.connect(db_path) as db:
            uses = dict(db.execute("SELECT labels, uses FROM check_labels").fetchall())
        assert uses == {lists["first"]: 2, lists["shared"]: 2, lists["never"]: 0}

        assert (await prune(store, None, 1)).runs == 3
        (kept,) = await store.runs.page()
        assert [(check.name, check.passed, check.actual) for check in kept.checks] == [("shared", True, 200)]
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT labels, uses FROM check_labels").fetchall() == [(lists["shared"], 1)]
