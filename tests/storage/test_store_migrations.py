"""Migrations keyed on user_version, including the test_tags data migration."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from callboard.core.models import TestDefinition, dump_test
from callboard.storage import LATEST_VERSION, Store, migrate
from callboard.storage.connection import open_connection
from callboard.storage.migrations import MIGRATIONS, split_statements


async def _database_at_version_1(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = await open_connection(db_path)
    try:
        assert await migrate(conn, target=1) == 1
    finally:
        await conn.close()


def _insert_test_row(db_path: Path, definition: dict, tags: list[str]) -> None:
    """A tests row written by plain SQL, as callboard 0001 would have written it."""
    now = "2024-05-01T10:00:00.000000+00:00"
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO tests (name, kind, tags, definition, digest, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'old-digest', ?, ?)",
            (definition["name"], definition["kind"], json.dumps(tags), json.dumps(definition), now, now),
        )


async def test_opening_a_version_1_database_upgrades_it_and_fills_test_tags(
    db_path: Path, make_test: Callable[..., TestDefinition]
) -> None:
    await _database_at_version_1(db_path)
    tagged = make_test("greets-caller", tags=["smoke", "nightly"])
    _insert_test_row(db_path, dump_test(tagged), tagged.tags)
    _insert_test_row(db_path, dump_test(make_test("untagged")), [])
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "test_tags" not in tables

    async with await Store.open(db_path) as store:
        smoke = await store.tests.list(tag="smoke")
        nightly = await store.tests.list(tag="nightly")
        everything = await store.tests.list()

    assert [test.name for test in smoke] == ["greets-caller"]
    assert [test.name for test in nightly] == ["greets-caller"]
    assert [test.name for test in everything] == ["greets-caller", "untagged"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION == 9
        rows = conn.execute("SELECT tag FROM test_tags ORDER BY tag").fetchall()
    assert rows == [("nightly",), ("smoke",)]


async def test_migrating_again_changes_nothing(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    before = db_path.read_bytes()
    conn = await open_connection(db_path)
    try:
        assert await migrate(conn) == LATEST_VERSION
    finally:
        await conn.close()
    assert db_path.read_bytes() == before


async def test_a_target_outside_the_known_versions_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = await open_connection(db_path)
    try:
        with pytest.raises(ValueError, match="outside"):
            await migrate(conn, target=LATEST_VERSION + 1)
    finally:
        await conn.close()


async def test_test_tags_follow_every_write_of_a_test(
    store: Store, make_test: Callable[..., TestDefinition]
) -> None:
    await store.tests.upsert_many([make_test("a", tags=["x", "y"]), make_test("b", tags=["y"])])
    await store.tests.upsert_many([make_test("a", tags=["z"])])
    assert [test.name for test in await store.tests.list(tag="y")] == ["b"]
    assert [test.name for test in await store.tests.list(tag="z")] == ["a"]

    b = await store.tests.get("b")
    assert b is not None
    await store.tests.delete([b.id])
    assert await store.tests.list(tag="y") == []


def test_statements_split_at_their_ends_not_inside_triggers_or_strings() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (a TEXT DEFAULT 'x;y');
    CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
        UPDATE t SET a = 'z;' WHERE rowid = NEW.rowid;
    END;
    -- trailing comment
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(ValueError, match="complete statement"):
        split_statements("CREATE TABLE t (a)")


def test_migration_files_are_numbered_from_one() -> None:
    assert [migration.version for migration in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert [migration.name for migration in MIGRATIONS[:2]] == ["initial", "test_tags"]


async def test_a_version_5_database_with_runs_gets_the_judged_runs_index_and_reads_the_same(
    db_path: Path,
) -> None:
    # Migration 0006 only adds an index: a database with history from today's schema keeps every run,
    # and trends and flaky tests read from the index find what the runs say.
    db_path.parent.mkdir(parents=True)
    conn = await open_connection(db_path)
    try:
        assert await migrate(conn, target=5) == 5
    finally:
        await conn.close()
    outcomes = ["passed", "failed", "error", "cancelled", "passed", "skipped", "failed", "passed"]
    with sqlite3.connect(db_path) as db:
        db.executemany(
            "INSERT INTO batches (id, label, source, created_at) VALUES (?, 'nightly', 'test', '')",
            [(batch_id,) for batch_id in range(1, len(outcomes) + 1)],
        )
        db.executemany(
            "INSERT INTO runs (batch_id, test_name, test_version, kind, status, score, queued_at)"
            " VALUES (?, 'greets', 1, 'http', ?, ?, '')",
            [
                (batch_id, status, 100.0 if status == "passed" else 0.0)
                for batch_id, status in enumerate(outcomes, 1)
            ],
        )
    async with await Store.open(db_path) as store:
        points = await store.history.batch_verdicts(3)
        flaky = await store.history.version_verdicts(4)
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == len(outcomes)
        judged = db.execute("SELECT COUNT(*) FROM judged_runs").fetchone()[0]
    # 0009 moved the index's runs to judged_runs: the passed, failed and errored ones.
    assert judged == 6
    # The last three batches with a verdict: 5 (passed), 7 (failed), 8 (passed).
    assert [(row.batch_id, row.judged, row.passed) for row in points] == [(5, 1, 1), (7, 1, 0), (8, 1, 1)]
    # The newest four passed or failed runs: batches 2, 5, 7, 8.
    assert [tuple(row) for row in flaky] == [("greets", 1, 2, 2)]
