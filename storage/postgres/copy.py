"""``callboard store copy``: an SQLite history into an empty PostgreSQL database, ids kept.

The SQLite file is read in one read transaction (a consistent snapshot, even with a daemon writing it)
and written with COPY in one PostgreSQL transaction: the target ends with all of it or none. Rows keep
their ids, and the identity sequences are moved past them, so the next batch continues the numbering.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import AsyncConnection, sql

from callboard.storage.errors import StoreError
from callboard.storage.postgres.access import outages_as_store_errors
from callboard.storage.postgres.connection import connect, describe
from callboard.storage.postgres.migrations import migrate, schema_version
from callboard.storage.store import Store

# Parents before children (foreign keys); test_tags and test_last_runs are kept by triggers as rows
# arrive, and are copied after them only to carry anything the triggers would not make.
TABLES = (
    "check_labels", "test_versions", "tests", "test_tags", "schedules", "batches", "runs", "schedule_fires",
    "dial_intents", "test_last_runs",
)  # fmt: skip
_WITH_IDS = ("check_labels", "test_versions", "tests", "schedules", "batches", "runs")
_DERIVED = ("test_tags", "test_last_runs")
_CHUNK = 5000
# Columns only SQLite keeps, derived from other rows by its triggers (migration 0009): not copied.
_SQLITE_ONLY = {"check_labels": ("uses",)}


class TargetNotEmptyError(StoreError):
    """The PostgreSQL database already holds callboard data; a copy never merges into it."""


@dataclass
class CopyCounts:
    """Rows copied, by table."""

    rows: dict[str, int] = field(default_factory=dict)


async def copy_sqlite_to_postgres(sqlite_path: Path, url: str) -> CopyCounts:
    """Copy the callboard database at ``sqlite_path`` into the empty PostgreSQL database at ``url``.

    Raises StoreError when the file is missing or no callboard database, TargetNotEmptyError when the
    target holds callboard rows already; the message names the target without its password.
    """
    if not await asyncio.to_thread(sqlite_path.is_file):
        raise StoreError(f"there is no callboard database at {sqlite_path} to copy")
    # Opening it brings its schema to this callboard's version, as the daemon would.
    await (await Store.open(sqlite_path)).close()
    where = describe(url)
    conn = await connect(url)
    try:
        with outages_as_store_errors(where):
            await _refuse_non_empty(conn, where)
            await migrate(conn)
            source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True, isolation_level=None)
            try:
                source.execute("BEGIN")  # one snapshot of every table
                counts = CopyCounts()
                async with conn.transaction():
                    for table in TABLES:
                        counts.rows[table] = await _copy_table(source, conn, table)
                    for table in _WITH_IDS:
                        await _advance_sequence(conn, table)
                source.execute("COMMIT")
            finally:
                source.close()
    finally:
        await conn.close()
    return counts


async def _refuse_non_empty(conn: AsyncConnection, where: str) -> None:
    if await schema_version(conn) == 0:
        return
    for table in ("tests", "batches", "schedules", "test_versions"):
        cursor = await conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))
        row = await cursor.fetchone()
        if row and row[0]:
            raise TargetNotEmptyError(
                f"{where} already holds callboard data (table {table} has rows); copy into an empty database"
            )


async def _copy_table(source: sqlite3.Connection, conn: AsyncConnection, table: str) -> int:
    """Copy one table's rows (the columns both sides have); returns how many."""
    columns = await _shared_columns(source, conn, table)
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    if table in _DERIVED:
        # Already made by the triggers; only rows they did not make are added.
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
            sql.Identifier(table), names, sql.SQL(", ").join(sql.Placeholder() * len(columns))
        )
        rows = list(_rows(source, table, columns))
        async with conn.cursor() as cursor:
            await cursor.executemany(insert, rows)
        return len(rows)
    copied = 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
    async with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in _rows(source, table, columns):
            await copy.write_row(row)
            copied += 1
    return copied


def _rows(source: sqlite3.Connection, table: str, columns: list[str]) -> Iterator[tuple[object, ...]]:
    quoted = ", ".join(f'"{name}"' for name in columns)
    cursor = source.execute(f'SELECT {quoted} FROM "{table}"')
    while chunk := cursor.fetchmany(_CHUNK):
        yield from chunk


async def _shared_columns(source: sqlite3.Connection, conn: AsyncConnection, table: str) -> list[str]:
    """The table's columns in SQLite that PostgreSQL has too (in SQLite's order)."""
    skipped = _SQLITE_ONLY.get(table, ())
    theirs = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")') if row[1] not in skipped]
    cursor = await conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = %s",
        (table,),
    )
    ours = {row[0] for row in await cursor.fetchall()}
    missing = [name for name in theirs if name not in ours]
    if missing:
        raise StoreError(
            f"the SQLite table {table} has columns the PostgreSQL schema lacks ({', '.join(missing)}); "
            "this callboard cannot copy them"
        )
    return theirs


async def _advance_sequence(conn: AsyncConnection, table: str) -> None:
    """Move the table's identity sequence past the largest id copied."""
    await conn.execute(
        sql.SQL(
            "SELECT setval(pg_get_serial_sequence({name}, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL)"
            " FROM {table}"
        ).format(name=sql.Literal(table), table=sql.Identifier(table))
    )
