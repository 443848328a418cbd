"""The PostgreSQL store while its server is down: the writer keeps its writes in order and reports a
fault (as the SQLite writer does for a locked or full database), commits them when the server is back;
reads fail as StoreError (the API's 503 store_unavailable), naming the database without its password."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from callboard.storage.errors import StoreError
from callboard.storage.postgres.store import PgStore
from tests.pg_server import PostgresServer
from tests.storage.conformance.helpers import queue


async def _wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_writes_wait_out_a_server_restart(pg_url: str, pg_server: PostgresServer) -> None:
    store = await PgStore.open(pg_url)
    writer = await store.start_writer(1.0, 5000)
    try:
        _, ids = await queue(store, ["a", "b"])
        changes: list[bool] = []
        writer.on_fault_change(lambda: changes.append(writer.fault is not None))
        await asyncio.to_thread(pg_server.pg_ctl, "stop", "-m", "fast")
        try:
            now = datetime.now(UTC)
            first = asyncio.ensure_future(writer.mark_started(ids[0], 1, now))
            second = asyncio.ensure_future(writer.mark_started(ids[1], 1, now))
            await _wait_for(lambda: writer.fault is not None)
            assert writer.fault is not None and "the store cannot commit" in writer.fault.describe()
            assert not first.done() and not second.done()
            with pytest.raises(StoreError) as caught:
                await store.runs.get(ids[0])
            assert "postgresql://" in str(caught.value)
        finally:
            await asyncio.to_thread(pg_server.pg_ctl, "-l", str(pg_server.root / "server.log"), "start")
        assert await asyncio.wait_for(first, 60) and await asyncio.wait_for(second, 60)
        assert writer.fault is None and changes == [True, False]
        assert await store.runs.count("running") == 2
    finally:
        await writer.close()
        await store.close()
