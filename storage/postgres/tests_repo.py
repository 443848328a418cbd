"""The tests table on PostgreSQL: the SQLite repository's behaviour, in PostgreSQL's SQL.

Unlike the SQLite repository, it keeps no copy of the whole list between writes: another daemon may
write the same database.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callboard.core.models import StoredTest, TestDefinition, TestOutline
from callboard.storage.errors import NameTakenError
from callboard.storage.postgres.access import PgAccess
from callboard.storage.tests_repo import _CHUNK_ROWS, ImportCounts, _Encoded, _OutlineCache, _row
from callboard.storage.timestamps import now_text

_COLUMNS = "id, version, created_at, updated_at, definition"
_UPDATE = (
    "UPDATE tests SET name = %s, kind = %s, tags = %s, definition = %s, digest = %s, version = version + 1,"
    " updated_at = %s"
)


class PgTestsRepo:
    """Stored test definitions, matched by name."""

    __test__ = False  # not a pytest class

    def __init__(self, access: PgAccess, cache_size: int = 50_000) -> None:
        self._access = access
        self._cache = _OutlineCache(cache_size)

    async def upsert_many(self, tests: Sequence[TestDefinition | TestOutline]) -> ImportCounts:
        """Add new tests and update changed ones, in one transaction (see ``TestsRepo.upsert_many``)."""
        encoded = [_Encoded.of(test) for test in tests]
        names = [item.test.name for item in encoded]
        duplicates = sorted(name for name, times in Counter(names).items() if times > 1)
        if duplicates:
            raise ValueError(f"duplicate test names: {', '.join(duplicates)}")
        now = now_text()
        async with self._access.transaction() as conn:
            cursor = await conn.execute(
                "SELECT name, digest FROM tests WHERE name = ANY(%s) FOR UPDATE", (names,)
            )
            existing: dict[str, str] = {name: digest for name, digest in await cursor.fetchall()}
            added = [item for item in encoded if item.test.name not in existing]
            updated = [item for item in encoded if existing.get(item.test.name, item.digest) != item.digest]
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO tests (name, kind, tags, definition, digest, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    ((*_row(item), now, now) for item in added),  # made as they are written
                )
                await cur.executemany(
                    f"{_UPDATE} WHERE name = %s", ((*_row(item), now, item.test.name) for item in updated)
                )
        # As in TestsRepo: the tests just validated need not be validated again when read back.
        for item in (*added, *updated):
            self._cache.keep(item.test)
        changed = {item.test.name for item in (*added, *updated)}
        return ImportCounts(
            added=[item.test.name for item in added],
            updated=[item.test.name for item in updated],
            unchanged=[name for name in names if name not in changed],
        )

    async def list(
        self, tag: str | None = None, kind: str | None = None, search: str | None = None
    ) -> builtins.list[StoredTest]:
        """Tests ordered by name, optionally filtered (see ``TestsRepo.list``)."""
        where: builtins.list[str] = []
        params: builtins.list[Any] = []
        if tag is not None:
            where.append("id IN (SELECT test_id FROM test_tags WHERE tag = %s)")
            params.append(tag)
        if kind is not None:
            where.append("kind = %s")
            params.append(kind)
        if search:
            where.append("name ILIKE %s ESCAPE '\\'")
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        # COLLATE "C": byte order, as SQLite sorts text, whatever the database's locale.
        sql = f'SELECT {_COLUMNS} FROM tests {clause} ORDER BY name COLLATE "C"'
        found: builtins.list[StoredTest] = []
        # A server-side cursor read in chunks: neither the whole answer (which libpq would hold) nor
        # every row's text is in memory at once; the outlines already hold the texts.
        async with self._access.transaction() as conn, conn.cursor(name="tests_list") as cursor:
            await cursor.execute(sql.encode(), params)
            while rows := await cursor.fetchmany(_CHUNK_ROWS):
                found.extend(self._stored(rows))
        return found

    async def get(self, id_or_name: int | str) -> StoredTest | None:
        """The test with this id (int) or name (str), or None."""
        column = "id" if isinstance(id_or_name, int) else "name"
        rows = await self._access.fetchall(f"SELECT {_COLUMNS} FROM tests WHERE {column} = %s", (id_or_name,))
        found = self._stored(rows)
        return found[0] if found else None

    async def replace(self, test_id: int, test: TestDefinition) -> StoredTest | None:
        """Put a new definition in place of test ``test_id`` (see ``TestsRepo.replace``)."""
        item = _Encoded.of(test)
        async with self._access.transaction() as conn:
            cursor = await conn.execute(
                "SELECT id FROM tests WHERE name = %s AND id != %s", (test.name, test_id)
            )
            if await cursor.fetchone() is not None:
                raise NameTakenError(f"another test is already named {test.name!r}")
            await conn.execute(
                f"{_UPDATE} WHERE id = %s AND digest != %s".encode(),
                (*_row(item), now_text(), test_id, item.digest),
            )
        return await self.get(test_id)

    async def delete(self, ids: builtins.list[int]) -> int:
        """Delete tests by id; returns how many existed. Their past runs stay, detached from the test."""
        async with self._access.transaction() as conn:
            cursor = await conn.execute("DELETE FROM tests WHERE id = ANY(%s)", (ids,))
            return cursor.rowcount

    async def count(self) -> int:
        """How many tests are stored."""
        row = await self._access.fetchone("SELECT COUNT(*) FROM tests")
        return int(row[0]) if row else 0

    def _stored(self, rows: builtins.list[tuple[Any, ...]]) -> builtins.list[StoredTest]:
        # As in TestsRepo: each definition is validated once, when its outline is made.
        return [
            StoredTest(
                test_id,
                version,
                datetime.fromisoformat(created_at),
                datetime.fromisoformat(updated_at),
                self._cache.outline(definition),
            )
            for test_id, version, created_at, updated_at, definition in rows
        ]
