"""PostgreSQL schema migrations: the numbered files of ``migrations/``, applied in order.

The applied versions are rows of ``callboard_schema``. Each migration runs in one transaction that first
takes a transaction-scoped advisory lock, so two processes migrating the same database at once apply
each file exactly once (the second waits, then sees it applied); a failing statement leaves the database
at the previous version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

from psycopg import AsyncConnection, Error

from callboard.storage.errors import StoreError

_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
# A fixed key of the advisory lock namespace ("callboard migrate" in ASCII, folded to 63 bits).
MIGRATION_LOCK_KEY = 0x63616C6C626F6172 & 0x7FFFFFFFFFFFFFFF

_SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS callboard_schema (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file (run as one multi-statement script: PostgreSQL accepts that)."""

    version: int
    name: str
    sql: str


def _load() -> tuple[Migration, ...]:
    folder = files(__package__).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    if [migration.version for migration in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("PostgreSQL migration files must be numbered 0001, 0002, … without gaps")
    return tuple(found)


MIGRATIONS: tuple[Migration, ...] = _load()
LATEST_VERSION: int = MIGRATIONS[-1].version


async def schema_version(conn: AsyncConnection) -> int:
    """The newest migration applied to the database (0 for an empty one)."""
    cursor = await conn.execute("SELECT to_regclass('callboard_schema') IS NOT NULL")
    row = await cursor.fetchone()
    if not row or not row[0]:
        return 0
    cursor = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM callboard_schema")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: AsyncConnection, target: int | None = None) -> int:
    """Apply the migrations above the database's version up to ``target`` (default: the latest) on an
    autocommit connection; returns the version afterwards. Refuses a database from a newer callboard."""
    target = LATEST_VERSION if target is None else target
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"target version {target} is outside 0..{LATEST_VERSION}")
    current = await schema_version(conn)
    if current > LATEST_VERSION:
        raise StoreError(
            f"the PostgreSQL database has schema version {current}, but this callboard knows versions up "
            f"to {LATEST_VERSION}; upgrade callboard to use it"
        )
    for migration in MIGRATIONS[:target]:
        if migration.version <= current:
            continue
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            await conn.execute(_SCHEMA_TABLE)
            # Checked under the lock: another process may have applied it while this one waited.
            cursor = await conn.execute(
                "SELECT 1 FROM callboard_schema WHERE version = %s", (migration.version,)
            )
            if await cursor.fetchone() is not None:
                continue
            try:
                await conn.execute(migration.sql.encode())
            except Error as exc:
                raise StoreError(
                    f"PostgreSQL migration {migration.version:04d}_{migration.name} failed: {exc}"
                ) from exc
            await conn.execute(
                "INSERT INTO callboard_schema (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return await schema_version(conn)
