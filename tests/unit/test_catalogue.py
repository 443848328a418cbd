"""The test catalogue service on a real SQLite store: each write is stored, then announced once as
``TestsChanged``; a refused write stores nothing and announces nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callboard.core.config import ImportSettings
from callboard.core.engine.events import EventBus
from callboard.core.models.events import TestsChanged
from callboard.core.services.catalogue import CatalogueConflict, TestCatalogue
from callboard.core.suites import SuiteError
from callboard.storage import Store
from tests.storage.conftest import http_test

_SUITE = """
[[test]]
name = "{name}"
kind = "http"
request = {{ method = "GET", url = "http://127.0.0.1:8700/health" }}
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "callboard.db") as opened:
        yield opened


def _announced(events: EventBus) -> list[tuple[str, int]]:
    return [(event.how, event.count) for event in events.since(0) or [] if isinstance(event, TestsChanged)]


async def test_writes_are_stored_then_announced(store: Store, tmp_path: Path) -> None:
    events = EventBus()
    catalogue = TestCatalogue(store, events, ImportSettings())
    suite = tmp_path / "suite.toml"
    suite.write_text(_SUITE.format(name="from-file"))

    counts = await catalogue.import_suites([suite], [http_test("by-value")])
    assert sorted(counts.added) == ["by-value", "from-file"]
    created = await catalogue.create(http_test("created"))
    replaced = await catalogue.replace(created.id, http_test("renamed"))
    assert replaced is not None and replaced.name == "renamed"
    assert await catalogue.delete(created.id)

    assert sorted(test.name for test in await store.tests.list()) == ["by-value", "from-file"]
    assert _announced(events) == [("import", 2), ("create", 1), ("replace", 1), ("delete", 1)]


async def test_refused_writes_change_nothing_and_announce_nothing(store: Store, tmp_path: Path) -> None:
    events = EventBus()
    catalogue = TestCatalogue(store, events, ImportSettings())
    await store.tests.upsert_many([http_test("first"), http_test("second")])
    first = await store.tests.get("first")
    assert first is not None
    bad_suite = tmp_path / "bad.toml"
    bad_suite.write_text('[[test]]\nname = "broken"\nkind = "http"\n')

    with pytest.raises(CatalogueConflict, match="'second' already exists"):
        await catalogue.create(http_test("second"))
    with pytest.raises(CatalogueConflict):
        await catalogue.replace(first.id, http_test("second"))
    with pytest.raises(SuiteError):
        await catalogue.import_suites([bad_suite], [http_test("third")])
    assert await catalogue.replace(10**6, http_test("ghost")) is None
    assert not await catalogue.delete(10**6)
    unchanged = await catalogue.import_suites([], [http_test("first")])

    assert unchanged.unchanged == ["first"]
    assert sorted(test.name for test in await store.tests.list()) == ["first", "second"]
    assert _announced(events) == []
