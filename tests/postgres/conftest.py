"""Fixtures for the queue tests: a migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from psycopg import AsyncConnection

from callboard.storage.postgres.connection import connect
from callboard.storage.postgres.migrations import migrate


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to a fresh database at the latest schema."""
    conn = await connect(pg_url)
    await migrate(conn)
    yield conn
    await conn.close()
