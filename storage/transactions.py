"""Write transactions on an aiosqlite connection: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from callboard.storage.errors import locked_as_store_error


@asynccontextmanager
async def write_transaction(
    conn: aiosqlite.Connection, path: Path, busy_timeout_ms: int
) -> AsyncIterator[aiosqlite.Connection]:
    """Run the block in one ``BEGIN IMMEDIATE`` transaction; lock timeouts raise StoreLockedError.

    IMMEDIATE takes the write lock up front, so a transaction never fails half-way because another
    writer got in first; it waits up to the busy timeout at BEGIN instead.
    """
    with locked_as_store_error(path, busy_timeout_ms):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise


class WriteGate:
    """The store's one write connection; transactions on it run one at a time."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, busy_timeout_ms: int) -> None:
        self.conn = conn
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        # aiosqlite would interleave statements of concurrent tasks on the one connection.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on the write connection, after any transaction already under way."""
        async with self._lock, write_transaction(self.conn, self.path, self.busy_timeout_ms) as conn:
            yield conn

    @asynccontextmanager
    async def outside_transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The write connection with no transaction open (for VACUUM), after any under way."""
        async with self._lock:
            yield self.conn

    async def close(self) -> None:
        """Close the write connection once the transaction under way (if any) has ended."""
        async with self._lock:
            await self.conn.close()
