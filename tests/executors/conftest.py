"""Real servers on 127.0.0.1 ephemeral ports: the demo agent and a scripted server for edge cases."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from callboard.core.demo import create_app
from callboard.core.execution.base import Executor, Job, Outcome
from callboard.core.execution.http_client import HttpClientPool
from callboard.core.executors.registry import build_executors, close_executors
from callboard.core.models import TestDefinition, parse_test

RECEIVED = web.AppKey("received", list)  # the chat bodies the scripted server got


async def _serve(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def agent_url() -> AsyncIterator[str]:
    """The demo agent answering at once."""
    async for url in _serve(create_app(latency_ms=0)):
        yield url


@pytest.fixture
async def slow_agent_url() -> AsyncIterator[str]:
    """The demo agent answering after 200 ms."""
    async for url in _serve(create_app(latency_ms=200)):
        yield url


def _scripted_app() -> web.Application:
    """Routes that answer exactly what a test needs: statuses, Retry-After, odd bodies, an echo."""

    async def status(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return web.Response(status=code, text=f"status {code}")

    async def too_many(request: web.Request) -> web.Response:
        return web.Response(status=429, text="slow down", headers={"Retry-After": request.query["after"]})

    async def data(request: web.Request) -> web.Response:
        return web.json_response({"count": 3, "ok": True, "items": ["a", "b"], "name": "callboard"})

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="plain text, not JSON")

    async def big(request: web.Request) -> web.Response:
        return web.Response(text="y" * 100_000)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "method": request.method,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "content_type": request.content_type,
                "body": await request.text(),
            }
        )

    async def chat(request: web.Request) -> web.Response:
        # A chat API with its own shape: {"input": ...} in, {"data": {"text", "sid"}} out.
        body = await request.json()
        request.app[RECEIVED].append(body)
        turn = len(request.app[RECEIVED])
        return web.json_response({"data": {"text": f"reply {turn}", "sid": "sid-42"}})

    app = web.Application()
    app[RECEIVED] = []
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/retry", too_many)
    app.router.add_get("/data", data)
    app.router.add_get("/text", text)
    app.router.add_get("/big", big)
    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/chat", chat)
    return app


class Scripted(NamedTuple):
    """The scripted server's base URL and the JSON bodies its /chat received."""

    url: str
    received: list[Any]


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    """A running scripted server."""
    app = _scripted_app()
    async for url in _serve(app):
        yield Scripted(url, app[RECEIVED])


@pytest.fixture
def closed_port_url() -> str:
    """A URL on a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/health"


@pytest.fixture
async def pool() -> AsyncIterator[HttpClientPool]:
    """A small real connection pool."""
    client_pool = HttpClientPool(max_connections=8)
    yield client_pool
    await client_pool.aclose()


@pytest.fixture
async def executors() -> AsyncIterator[Mapping[str, Executor]]:
    """The executors the engine would use."""
    built = build_executors(max_http_connections=8)
    yield built
    await close_executors(built)


async def _no_external_id(external_id: str) -> None:
    return None


def _job(test: TestDefinition) -> Job:
    return Job(run_id=1, attempt=1, test=test, timeout_s=30.0, record_external_id=_no_external_id)


@pytest.fixture
def make_job() -> Callable[[dict[str, Any]], Job]:
    """Parse a suite entry into a first attempt of it."""
    return lambda entry: _job(parse_test(entry))


RunTest = Callable[[dict[str, Any]], Awaitable[Outcome]]


@pytest.fixture
def run_test(executors: dict[str, Executor]) -> RunTest:
    """Parse a suite entry and run it through its kind's executor."""

    async def run(entry: dict[str, Any]) -> Outcome:
        test = parse_test(entry)
        return await executors[test.kind].execute(_job(test))

    return run
