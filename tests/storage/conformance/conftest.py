"""The conformance suite's fixtures: every test here runs once on each backend, the SQLite file (in
tmp_path) and PostgreSQL (a fresh database on the real server), through storage.interface."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callboard.storage.interface import ResultWriting, StoreBackend
from callboard.storage.open import open_store


@pytest.fixture(params=["sqlite", "postgres"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None for the SQLite file, else the URL of an empty PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(backend_url: str | None, tmp_path: Path) -> AsyncIterator[StoreBackend]:
    """An open store on an empty database of the backend under test."""
    opened = await open_store(tmp_path / "state" / "callboard.db", backend_url, 5000)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def writer(store: StoreBackend) -> AsyncIterator[ResultWriting]:
    """The store's result writer, with a short tick."""
    started = await store.start_writer(1.0, 5000)
    yield started
    await started.close()
