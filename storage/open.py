"""Opening the store the settings name: the SQLite file in the state directory (the default), or the
PostgreSQL database of ``store.url``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from callboard.storage.interface import StoreBackend
from callboard.storage.store import Store


async def open_store(sqlite_path: Path, url: str | None, busy_timeout_ms: int) -> StoreBackend:
    """The PostgreSQL store at ``url`` when given, else the SQLite file at ``sqlite_path``; open and
    migrated. StoreError when it cannot be (the message never shows a password)."""
    if url is None:
        return await Store.open(sqlite_path, busy_timeout_ms)
    # Imported only for a PostgreSQL store: psycopg is the optional extra callboard[postgres], and the
    # SQLite daemon does not pay for it.
    from callboard.storage.postgres.store import PgStore

    return await PgStore.open(url)


@asynccontextmanager
async def opened_store(
    sqlite_path: Path, url: str | None, busy_timeout_ms: int
) -> AsyncIterator[StoreBackend]:
    """``open_store`` for the length of an ``async with`` block, closed at its end."""
    store = await open_store(sqlite_path, url, busy_timeout_ms)
    try:
        yield store
    finally:
        await store.close()
