"""Opening connections with the store's pragmas, refusing databases from a newer callboard.

The schema version is read before anything that could write (the WAL switch included), so a file
written by a newer callboard is left byte-for-byte as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosqlite

from callboard.storage.errors import SchemaTooNewError, StoreError, locked_as_store_error
from callboard.storage.migrations import LATEST_VERSION

DEFAULT_BUSY_TIMEOUT_MS = 5000

# WAL lets the read connection read while a write is under way; FULL makes every commit durable.
# In-memory temp tables keep a 10,000-run batch insert in memory. The page cache is SQLite's default
# (2 MiB) per connection: the daemon has three, and 16 MiB each held ~30 MB of a 10,000-test daemon's
# memory; pages it drops stay in the system's file cache, a read away.
_SETUP = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = FULL",
    "PRAGMA cache_size = -2048",
    "PRAGMA temp_store = MEMORY",
)
_SQLITE_NOTADB = 26
_INCREMENTAL_VACUUM = 2  # PRAGMA auto_vacuum
PAGE_SIZE = 8192


@contextmanager
def _opening(path: Path, busy_timeout_ms: int) -> Iterator[None]:
    """Lock timeouts become StoreLockedError; a file that is not SQLite becomes a StoreError naming it."""
    with locked_as_store_error(path, busy_timeout_ms):
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) == _SQLITE_NOTADB:
                raise StoreError(f"{path} is not a callboard database: {exc}") from exc
            raise


def _check_version(path: Path, version: int) -> None:
    if version > LATEST_VERSION:
        raise SchemaTooNewError(path, version, LATEST_VERSION)


def _check_wal(path: Path, mode: str) -> None:
    if mode.lower() != "wal":
        raise StoreError(f"database {path} could not be switched to WAL mode (journal mode is {mode})")


async def _ask_page_size(conn: aiosqlite.Connection) -> None:
    """8 KiB pages in a new, empty file: a finished run's row is ~400 bytes, and a 4 KiB page holding
    whole rows only leaves up to a row's worth unused (~8 % of the runs table); an 8 KiB page halves
    that. An existing file keeps its page size (a WAL database cannot change it)."""
    async with conn.execute("PRAGMA page_count") as cursor:
        row = await cursor.fetchone()
    if row is not None and row[0] == 0:
        await conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")


async def _ask_incremental_vacuum(conn: aiosqlite.Connection) -> None:
    """Make retention return freed pages a chunk at a time (PRAGMA incremental_vacuum) instead of a
    VACUUM holding the write lock over the whole file. It takes effect in a new, empty file; an older
    database switches at its next VACUUM (retention's first). Set only when not already so: setting it
    again would write the file's header."""
    async with conn.execute("PRAGMA auto_vacuum") as cursor:
        row = await cursor.fetchone()
    if row is None or row[0] != _INCREMENTAL_VACUUM:
        await conn.execute("PRAGMA auto_vacuum = INCREMENTAL")


async def open_connection(
    path: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, *, query_only: bool = False
) -> aiosqlite.Connection:
    """An aiosqlite connection in autocommit mode (callers issue their own ``BEGIN IMMEDIATE``).

    Raises SchemaTooNewError for a database newer than this callboard, StoreLockedError when the
    WAL switch waits past the busy timeout. ``query_only`` makes the connection refuse writes.
    """
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        with _opening(path, busy_timeout_ms):
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            async with conn.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
            _check_version(path, int(row[0]) if row else 0)
            if not query_only:
                await _ask_page_size(conn)
                await _ask_incremental_vacuum(conn)
            async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
                mode = await cursor.fetchone()
            _check_wal(path, str(mode[0]) if mode else "")
            for pragma in _SETUP:
                await conn.execute(pragma)
            if query_only:
                await conn.execute("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


def open_sync_connection(path: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A plain sqlite3 connection with the same pragmas, for use from one thread.

    Unlike the aiosqlite connections, it requires a database already migrated to this callboard's
    schema: it is for writers that run next to an open Store.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with _opening(path, busy_timeout_ms):
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            _check_version(path, version)
            if version < LATEST_VERSION:
                raise StoreError(
                    f"database {path} is at schema version {version}, not {LATEST_VERSION}; "
                    "open it with the Store first"
                )
            _check_wal(path, str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]))
            for pragma in _SETUP:
                conn.execute(pragma)
    except BaseException:
        conn.close()
        raise
    return conn
