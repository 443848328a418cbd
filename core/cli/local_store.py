"""Open the store in this process, for the commands that act on it directly until the daemon
serves them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from callboard.core.cli.context import fail
from callboard.core.config import Settings
from callboard.storage import Store
from callboard.storage.errors import StoreError


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The store of the configured state dir; store errors end the command with a message."""
    try:
        store = await Store.open(settings.db_path, busy_timeout_ms=settings.store.busy_timeout_ms)
    except StoreError as exc:
        fail(str(exc))
    try:
        yield store
    finally:
        await store.close()
