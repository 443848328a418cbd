"""Opening databases: pragmas, refusing newer schemas without touching them, bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from callboard.storage import LATEST_VERSION, ResultWriter, SchemaTooNewError, Store, StoreError
from callboard.storage.connection import open_connection


def _newer_database(path: Path, *, wal: bool) -> bytes:
    """A database stamped with schema version 99, as a future callboard would leave it; its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE future (id INTEGER PRIMARY KEY, payload TEXT)")
    conn.execute("INSERT INTO future (payload) VALUES ('from the future')")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
async def test_newer_schema_is_refused_and_left_untouched(db_path: Path, wal: bool) -> None:
    before = _newer_database(db_path, wal=wal)

    with pytest.raises(SchemaTooNewError) as refused:
        await Store.open(db_path)

    message = str(refused.value)
    assert str(db_path) in message
    assert "99" in message
    assert str(LATEST_VERSION) in message
    assert db_path.read_bytes() == before
    if not wal:
        assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]


async def test_writer_refuses_newer_schema_too(db_path: Path) -> None:
    before = _newer_database(db_path, wal=False)

    with pytest.raises(SchemaTooNewError):
        await ResultWriter.start(db_path)

    assert db_path.read_bytes() == before


async def test_writer_needs_a_migrated_database(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    sqlite3.connect(db_path).close()

    with pytest.raises(StoreError, match="open it with the Store first"):
        await ResultWriter.start(db_path)


async def test_a_file_that_is_not_sqlite_gets_an_error_naming_it(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_text("these are my notes, not a database\n" * 200)

    with pytest.raises(StoreError, match="is not a callboard database") as refused:
        await Store.open(db_path)

    assert str(db_path) in str(refused.value)


async def test_open_creates_the_folder_and_migrates(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        assert store.path == db_path
        assert await store.tests.count() == 0

    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_connections_get_the_store_pragmas(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    conn = await open_connection(db_path, busy_timeout_ms=1234)
    try:
        pragmas = {}
        for name in ("busy_timeout", "journal_mode", "foreign_keys", "synchronous", "query_only"):
            async with conn.execute(f"PRAGMA {name}") as cursor:
                pragmas[name] = (await cursor.fetchone())[0]
        assert conn.isolation_level is None
    finally:
        await conn.close()
    assert pragmas == {
        "busy_timeout": 1234,
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 2,  # FULL
        "query_only": 0,
    }


async def test_the_read_connection_refuses_writes(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    reads = await open_connection(db_path, query_only=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reads.execute("DELETE FROM tests")
    finally:
        await reads.close()


async def test_a_new_database_gets_8_kib_pages_and_an_older_one_keeps_its_own(tmp_path: Path) -> None:
    new = tmp_path / "new" / "callboard.db"
    async with await Store.open(new):
        pass
    older = tmp_path / "older" / "callboard.db"
    older.parent.mkdir()
    with sqlite3.connect(older) as db:  # a file made before, with SQLite's default 4 KiB pages
        db.execute("PRAGMA page_size = 4096")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    async with await Store.open(older) as store:
        assert await store.tests.count() == 0

    page_sizes = [sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0] for path in (new, older)]
    assert page_sizes == [8192, 4096]
