"""The tests table: importing suites (all-or-nothing) and looking tests up."""

from __future__ import annotations

import builtins
import hashlib
import json
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from callboard.core.models import StoredTest, TestDefinition, TestOutline
from callboard.storage.errors import NameTakenError
from callboard.storage.timestamps import now_text
from callboard.storage.transactions import WriteGate

_COLUMNS = "id, version, created_at, updated_at, definition"
_CHUNK_ROWS = 1000


@dataclass(frozen=True)
class ImportCounts:
    """What an import did, by test name."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Encoded:
    """A test as it is written: its outline (which holds the definition's text) and the digest of its
    canonical form (keys sorted), which tells a changed definition from an unchanged one."""

    test: TestOutline
    digest: str

    @property
    def definition(self) -> str:
        """The definition's text, as stored."""
        return self.test.text

    @classmethod
    def of(cls, test: TestDefinition | TestOutline) -> _Encoded:
        outline = test if isinstance(test, TestOutline) else TestOutline.of(test)
        canonical = json.dumps(
            json.loads(outline.text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return cls(outline, hashlib.sha256(canonical.encode()).hexdigest())


class _OutlineCache:
    """Outlines of stored definitions by a hash of their JSON text: making one validates the test,
    which is costly, and stored tests rarely change.

    Keyed by the text's own hash rather than the digest column, so a row written by other means (an old
    migration, a hand edit) can never be served someone else's definition; and not by the text itself,
    so a row read again does not keep its new copy of the text: the outline holds the first.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._outlines: OrderedDict[bytes, TestOutline] = OrderedDict()

    def outline(self, definition: str) -> TestOutline:
        key = _key(definition)
        outline = self._outlines.get(key)
        if outline is None:
            outline = self._keep(key, TestOutline.parse(definition))
        return outline

    def keep(self, outline: TestOutline) -> None:
        """Remember an outline whose text was just written."""
        self._keep(_key(outline.text), outline)

    def _keep(self, key: bytes, outline: TestOutline) -> TestOutline:
        self._outlines[key] = outline
        if len(self._outlines) > self._size:
            self._outlines.popitem(last=False)
        return outline


def _key(definition: str) -> bytes:
    return hashlib.blake2b(definition.encode(), digest_size=16).digest()


class TestsRepo:
    """Stored test definitions, matched by name."""

    __test__ = False  # not a pytest class

    def __init__(self, reads: aiosqlite.Connection, gate: WriteGate, cache_size: int = 50_000) -> None:
        self._reads = reads
        self._gate = gate
        self._cache = _OutlineCache(cache_size)
        # Every test, as the last unfiltered list() read them; the daemon is the only writer, so
        # dropping it on each write keeps it true, and queueing a batch of all tests skips the read.
        self._everything: list[StoredTest] | None = None
        # A read that overlapped a write (the generation moved, or one was under way) is not kept.
        self._generation = 0
        self._writes_under_way = 0

    async def upsert_many(self, tests: Sequence[TestDefinition | TestOutline]) -> ImportCounts:
        """Add new tests and update changed ones, in one transaction: all of them or none.

        A test whose definition is unchanged (same digest) keeps its version; a changed one gets
        version + 1. Two tests with the same name are refused with ValueError.
        """
        encoded = [_Encoded.of(test) for test in tests]
        names = [item.test.name for item in encoded]
        duplicates = sorted(name for name, times in Counter(names).items() if times > 1)
        if duplicates:
            raise ValueError(f"duplicate test names: {', '.join(duplicates)}")
        now = now_text()
        async with self._writing(), self._gate.transaction() as conn:
            cursor = await conn.execute(
                "SELECT name, digest FROM tests WHERE name IN (SELECT value FROM json_each(?))",
                (json.dumps(names),),
            )
            existing: dict[str, str] = {name: digest for name, digest in await cursor.fetchall()}
            added = [item for item in encoded if item.test.name not in existing]
            updated = [item for item in encoded if existing.get(item.test.name, item.digest) != item.digest]
            await conn.executemany(
                "INSERT INTO tests (name, kind, tags, definition, digest, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((*_row(item), now, now) for item in added),  # made as they are written
            )
            # test_tags follows tests.tags through the triggers of migration 0002.
            await conn.executemany(
                "UPDATE tests SET kind = ?2, tags = ?3, definition = ?4, digest = ?5, version = version + 1,"
                " updated_at = ?6 WHERE name = ?1",
                ((*_row(item), now) for item in updated),
            )
        # The tests just validated become the catalogue's: reading them back (the daemon reloads the
        # catalogue after every import) does not parse and validate 10,000 tests a second time.
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
    ) -> list[StoredTest]:
        """Tests ordered by name, optionally only those with ``tag``, of ``kind``, or whose name contains
        ``search`` (case-insensitive)."""
        unfiltered = tag is None and kind is None and not search
        if unfiltered and self._everything is not None:
            return list(self._everything)
        generation = self._generation
        where: list[str] = []
        params: list[Any] = []
        if tag is not None:
            where.append("id IN (SELECT test_id FROM test_tags WHERE tag = ?)")
            params.append(tag)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if search:
            where.append("name LIKE ? ESCAPE '\\'")
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        found: builtins.list[StoredTest] = []
        async with self._reads.execute(
            f"SELECT {_COLUMNS} FROM tests {clause} ORDER BY name", params
        ) as cursor:
            # In chunks: the rows' texts, which the outlines already hold, are never all in memory at once.
            while rows := await cursor.fetchmany(_CHUNK_ROWS):
                found.extend(self._stored(rows))
        if unfiltered and self._generation == generation and not self._writes_under_way:
            self._everything = found
        return list(found)

    async def get(self, id_or_name: int | str) -> StoredTest | None:
        """The test with this id (int) or name (str), or None."""
        column = "id" if isinstance(id_or_name, int) else "name"
        async with self._reads.execute(
            f"SELECT {_COLUMNS} FROM tests WHERE {column} = ?", (id_or_name,)
        ) as cursor:
            found = self._stored(await cursor.fetchall())
        return found[0] if found else None

    async def replace(self, test_id: int, test: TestDefinition) -> StoredTest | None:
        """Put a new definition (maybe a new name) in place of test ``test_id``; None if it does not exist.

        The version goes up only when the definition changed. Raises NameTakenError when another test
        already has the new name.
        """
        item = _Encoded.of(test)
        async with self._gate.transaction() as conn:
            cursor = await conn.execute(
                "SELECT id FROM tests WHERE name = ? AND id != ?", (test.name, test_id)
            )
            if await cursor.fetchone() is not None:
                raise NameTakenError(f"another test is already named {test.name!r}")
            await conn.execute(
                "UPDATE tests SET name = ?1, kind = ?2, tags = ?3, definition = ?4, digest = ?5,"
                " version = version + 1, updated_at = ?6 WHERE id = ?7 AND digest != ?5",
                (*_row(item), now_text(), test_id),
            )
        return await self.get(test_id)

    async def delete(self, ids: builtins.list[int]) -> int:
        """Delete tests by id; returns how many existed. Their past runs stay, detached from the test."""
        async with self._writing(), self._gate.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM tests WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
            )
            return cursor.rowcount

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        self._generation += 1
        self._writes_under_way += 1
        self._everything = None
        try:
            yield
        finally:
            self._generation += 1
            self._writes_under_way -= 1
            self._everything = None

    async def count(self) -> int:
        """How many tests are stored."""
        async with self._reads.execute("SELECT COUNT(*) FROM tests") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    def _stored(self, rows: Iterable[Any]) -> builtins.list[StoredTest]:
        # Each definition is validated once, when its outline is made; the outline cache keeps it.
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


def _row(item: _Encoded) -> tuple[str, str, str, str, str]:
    """(name, kind, tags, definition, digest) of an encoded test."""
    test = item.test
    return test.name, test.kind, json.dumps(test.tags), item.definition, item.digest
