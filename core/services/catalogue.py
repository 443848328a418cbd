"""Writes to the test catalogue: import suites, create, replace and delete tests.

Each write is committed by the store first and announced to event subscribers (the TUI's Tests
screen) after, as ``TestsChanged``; an import that changed anything also reloads the catalogue and
settles the heap (see ``heap``), as the daemon does when it starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from callboard.core.config import ImportSettings
from callboard.core.engine.control import EventFeed
from callboard.core.models import StoredTest, TestDefinition, TestOutline
from callboard.core.models.events import TestsChanged
from callboard.core.services.heap import settle_heap
from callboard.core.suites import SuiteLimits, load_suite_outlines
from callboard.storage import ImportCounts
from callboard.storage.errors import NameTakenError
from callboard.storage.interface import StoreBackend

_MB = 1024 * 1024


class CatalogueConflict(Exception):
    """The write collides with another test: its name is taken, or it was deleted meanwhile."""


class TestCatalogue:
    """The stored tests, as the API changes them."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, store: StoreBackend, events: EventFeed, imports: ImportSettings) -> None:
        self._store = store
        self._events = events
        self._limits = SuiteLimits(max_tests=imports.max_tests, max_file_bytes=int(imports.max_file_mb * _MB))

    async def import_suites(
        self, paths: Sequence[Path], tests: Sequence[TestDefinition | TestOutline]
    ) -> ImportCounts:
        """Store the tests of the suite files at ``paths`` and ``tests``, all or nothing; a re-imported
        name updates its test. Raises SuiteError (a file is bad) or ValueError (the store refused them):
        nothing is stored then."""
        # Reading and validating a big suite takes a while: keep the event loop free for other clients.
        from_files = await asyncio.to_thread(load_suite_outlines, list(paths), self._limits) if paths else []
        counts = await self._store.tests.upsert_many([*from_files, *tests])
        if counts.added or counts.updated:
            await self._store.tests.list()  # reload the catalogue now, so it is settled with the heap
            settle_heap()
            self._announce("import", len(counts.added) + len(counts.updated))
        return counts

    async def create(self, definition: TestDefinition) -> StoredTest:
        """Add one test. Raises CatalogueConflict when its name is taken."""
        if await self._store.tests.get(definition.name) is not None:
            raise CatalogueConflict(f"a test named {definition.name!r} already exists")
        await self._store.tests.upsert_many([definition])
        created = await self._store.tests.get(definition.name)
        if created is None:  # deleted by a concurrent request in between
            raise CatalogueConflict(f"test {definition.name!r} was deleted while being created")
        self._announce("create", 1)
        return created

    async def replace(self, test_id: int, definition: TestDefinition) -> StoredTest | None:
        """Put ``definition`` in place of test ``test_id`` (None when there is no such test); its version
        goes up when it changed. Raises CatalogueConflict when the new name belongs to another test."""
        try:
            replaced = await self._store.tests.replace(test_id, definition)
        except NameTakenError as exc:
            raise CatalogueConflict(str(exc)) from None
        if replaced is not None:
            self._announce("replace", 1)
        return replaced

    async def delete(self, test_id: int) -> bool:
        """Delete test ``test_id`` (its past runs stay); False when there is no such test."""
        if await self._store.tests.delete([test_id]) == 0:
            return False
        self._announce("delete", 1)
        return True

    def _announce(self, how: Literal["import", "create", "replace", "delete"], count: int) -> None:
        """Tell event subscribers that the tests changed, after the commit."""
        self._events.publish(TestsChanged(how=how, count=count))
