"""Another process holding the write lock: writes wait busy_timeout, then fail cleanly and change nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from callboard.core.models import TestDefinition
from callboard.storage import Store, StoreLockedError


async def test_an_import_into_a_locked_database_fails_and_writes_nothing(
    db_path: Path, make_test: Callable[..., TestDefinition]
) -> None:
    async with await Store.open(db_path, busy_timeout_ms=200) as store:
        locker = sqlite3.connect(db_path, isolation_level=None)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreLockedError) as locked:
                await store.tests.upsert_many([make_test("a"), make_test("b")])
            locker.execute("ROLLBACK")
        finally:
            locker.close()

        assert str(locked.value) == f"database {db_path} is locked by another process (waited 0.2 s)"
        assert await store.tests.count() == 0
        # The store is usable again once the lock is gone.
        assert (await store.tests.upsert_many([make_test("a")])).added == ["a"]
