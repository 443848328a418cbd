"""Connections to PostgreSQL: one async pool per store (psycopg 3 + psycopg_pool).

A store URL carries a password more often than not: ``describe`` is the only form of it that may reach
a message or a log, and errors are re-raised with that form instead of libpq's text.
"""

from __future__ import annotations

from psycopg import AsyncConnection, OperationalError
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from callboard.storage.errors import StoreError

DEFAULT_POOL_SIZE = 8
DEFAULT_CONNECT_TIMEOUT_S = 10.0


def describe(url: str) -> str:
    """``url`` without its password (and without anything else but user, host, port and database)."""
    try:
        parts = conninfo_to_dict(url)
    except Exception:  # a URL libpq cannot parse says nothing more useful than its scheme
        return "postgresql://(unparsable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


async def open_pool(
    url: str, max_size: int = DEFAULT_POOL_SIZE, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
) -> AsyncConnectionPool[AsyncConnection]:
    """An open pool of autocommit connections to ``url``; StoreError (naming the database, never the
    password) when the server cannot be reached within ``timeout_s``."""
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"autocommit": True},
        timeout=timeout_s,
        open=False,
        name="callboard",
    )
    try:
        await pool.open(wait=True, timeout=timeout_s)
    except (PoolTimeout, OperationalError) as exc:
        await pool.close()
        raise StoreError(f"cannot connect to {describe(url)}: {_reason(exc)}") from None
    return pool


async def connect(url: str, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> AsyncConnection:
    """One autocommit connection (for migrations and copies); StoreError as ``open_pool``."""
    try:
        return await AsyncConnection.connect(url, autocommit=True, connect_timeout=max(1, int(timeout_s)))
    except OperationalError as exc:
        raise StoreError(f"cannot connect to {describe(url)}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """The first line of libpq's message, which names the host but not the password."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
