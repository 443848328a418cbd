"""Fixtures for engine tests: real HTTP servers on loopback, a real store, a real writer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from callboard.core.engine.engine import Engine, EngineConfig
from callboard.core.engine.retry import Backoff
from callboard.core.executors.registry import build_executors, close_executors
from callboard.core.models import parse_test
from callboard.storage import Store
from callboard.storage.writer import ResultWriter


@dataclass
class Server:
    """A loopback HTTP server whose handler the test writes; it counts what it saw."""

    url: str
    hits: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0


Handler = Callable[[web.Request, Server], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[Server]:
    """Start ``handler`` on 127.0.0.1 with a free port."""
    server = Server(url="")

    async def wrapped(request: web.Request) -> web.StreamResponse:
        server.hits[request.path] = server.hits.get(request.path, 0) + 1
        server.in_flight += 1
        server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            return await handler(request, server)
        finally:
            server.in_flight -= 1

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", wrapped)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@asynccontextmanager
async def engine_on(db: Path, config: EngineConfig | None = None) -> AsyncIterator[tuple[Engine, Store]]:
    """A started engine on the database at ``db``; shut down on exit."""
    config = config or EngineConfig(
        concurrency=8, backoff=Backoff(base_s=0.01, max_s=0.05), shutdown_grace_s=5
    )
    store = await Store.open(db)
    writer = await ResultWriter.start(db, tick_ms=2.0)
    executors = build_executors(max_http_connections=16)
    engine = Engine(store, writer, executors, config)
    await engine.start()
    try:
        yield engine, store
    finally:
        await engine.shutdown()
        await writer.close()
        await close_executors(executors)
        await store.close()


async def add_tests(db: Path, entries: list[dict]) -> None:
    """Store these suite entries."""
    store = await Store.open(db)
    try:
        await store.tests.upsert_many([parse_test(entry) for entry in entries])
    finally:
        await store.close()


def http_test(name: str, url: str, **extra: object) -> dict:
    """A suite entry for a GET of ``url`` expecting 200."""
    return {"name": name, "kind": "http", "request": {"url": url}, "checks": [{"status": 200}], **extra}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database path in this test's temp dir."""
    return tmp_path / "callboard.db"


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until ``predicate`` holds (fails the test after ``timeout`` seconds)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)
