"""Reading and writing through the pool, with the server's outages turned into StoreError.

A lost connection, a server restarting or a pool with no free connection in time is the store's fault,
not the caller's: it becomes StoreError (the API answers 503 store_unavailable), naming the database
without its password. Constraint and programming errors pass through unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from psycopg import AsyncConnection, OperationalError
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from callboard.storage.errors import StoreError


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the server cannot be reached or used now (it may be later)."""
    return isinstance(exc, OperationalError | PoolTimeout)


@contextmanager
def outages_as_store_errors(where: str) -> Iterator[None]:
    """Re-raise an outage inside the block as StoreError naming ``where``."""
    try:
        yield
    except (OperationalError, PoolTimeout) as exc:
        lines = str(exc).strip().splitlines()
        raise StoreError(f"{where}: {lines[-1] if lines else type(exc).__name__}") from exc


class PgAccess:
    """The store's pool, with reads and write transactions that fail as StoreError on an outage."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], where: str) -> None:
        self.pool = pool
        self.where = where

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction on a pooled connection: committed at the end of the block, rolled back on error."""
        with outages_as_store_errors(self.where):
            async with self.pool.connection() as conn, conn.transaction():
                yield conn

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of one query (in a transaction of its own)."""
        with outages_as_store_errors(self.where):
            async with self.pool.connection() as conn:
                cursor = await conn.execute(sql.encode(), params)
                return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple[Any, ...] | None:
        """The first row of one query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None
