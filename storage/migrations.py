"""Schema migrations: numbered SQL files applied in order, tracked by ``PRAGMA user_version``.

Each migration runs in its own ``BEGIN IMMEDIATE`` transaction that also sets ``user_version``, so a
crash or a failing statement leaves the database at the previous version, never half-migrated.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import aiosqlite

from callboard.storage.errors import StoreError
from callboard.storage.transactions import write_transaction

_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The file split into single statements (the sqlite3 module executes one at a time)."""
        return split_statements(self.sql)


def split_statements(script: str) -> list[str]:
    """Split SQL text at the semicolons that end a statement (not those inside triggers or strings)."""
    statements: list[str] = []
    start = 0
    for index, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : index + 1]):
            statements.append(script[start : index + 1].strip())
            start = index + 1
    leftover = [
        line for line in script[start:].splitlines() if line.strip() and not line.strip().startswith("--")
    ]
    if leftover:
        raise ValueError(f"SQL text does not end with a complete statement: {leftover[0]!r}")
    return statements


def _load() -> tuple[Migration, ...]:
    folder = files(__package__).joinpath("migrations")
    migrations = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    if [migration.version for migration in migrations] != list(range(1, len(migrations) + 1)):
        raise RuntimeError("migration files must be numbered 0001, 0002, … without gaps")
    return tuple(migrations)


MIGRATIONS: tuple[Migration, ...] = _load()
LATEST_VERSION: int = MIGRATIONS[-1].version


async def user_version(conn: aiosqlite.Connection) -> int:
    """The schema version recorded in the database file."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, target: int | None = None) -> int:
    """Apply the migrations above the database's version, up to ``target`` (default: the latest).

    Returns the version the database is at afterwards. Never downgrades.
    """
    target = LATEST_VERSION if target is None else target
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"target version {target} is outside 0..{LATEST_VERSION}")
    path, busy_timeout_ms = await _describe(conn)
    for migration in MIGRATIONS[:target]:
        async with write_transaction(conn, path, busy_timeout_ms):
            # Checked inside the write lock: another process may have migrated while we waited for it.
            if await user_version(conn) >= migration.version:
                continue
            for statement in migration.statements():
                try:
                    await conn.execute(statement)
                except sqlite3.Error as exc:
                    raise StoreError(
                        f"migration {migration.version:04d}_{migration.name} failed: {exc}"
                    ) from exc
            await conn.execute(f"PRAGMA user_version = {migration.version}")
    return await user_version(conn)


async def _describe(conn: aiosqlite.Connection) -> tuple[Path, int]:
    """The file and busy timeout of ``conn``, for error messages."""
    async with conn.execute("PRAGMA database_list") as cursor:
        rows = await cursor.fetchall()
    async with conn.execute("PRAGMA busy_timeout") as cursor:
        timeout = await cursor.fetchone()
    main = next((row[2] for row in rows if row[1] == "main"), "")
    return Path(main), int(timeout[0]) if timeout else 0
