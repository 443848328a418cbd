"""Servers for the llm tests: the demo agent, the bundled simulator (scripted model) and the stub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from callboard.core.config import LlmSettings
from callboard.core.demo import create_app
from callboard.core.execution.base import Job, Outcome
from callboard.core.executors.registry import build_executors, close_executors
from callboard.core.models import parse_test
from callboard.core.simulator import SimulatorConfig, simulator_thread
from callboard.core.simulator.scripted_model import SCRIPTED_MODEL, SCRIPTED_MODEL_KEY
from tests.llm.stub_model import STUB_KEY, StubModel, serve_stub


@pytest.fixture(scope="session")
def sim_url() -> Iterator[str]:
    """The bundled simulator (its /v1 is the scripted model)."""
    with simulator_thread(SimulatorConfig()) as url:
        yield url


@pytest.fixture
async def agent_url() -> AsyncIterator[str]:
    """The demo clinic agent's /chat."""
    server = TestServer(create_app(), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/chat"))
    await server.close()


@pytest.fixture
async def stub() -> AsyncIterator[StubModel]:
    """The minimal OpenAI-compatible server of these tests."""
    async for model in serve_stub():
        yield model


def scripted_settings(sim_url: str, **fields: Any) -> LlmSettings:
    """[llm] settings on the bundled scripted model."""
    given = {"base_url": f"{sim_url}/v1", "model": SCRIPTED_MODEL, "api_key": SCRIPTED_MODEL_KEY, **fields}
    return LlmSettings(**given)


def stub_settings(stub: StubModel, **fields: Any) -> LlmSettings:
    """[llm] settings on the stub."""
    return LlmSettings(**{"base_url": stub.url, "model": "stub-model", "api_key": STUB_KEY, **fields})


async def _no_external_id(external_id: str) -> None:
    return None


RunWith = Callable[[LlmSettings, dict[str, Any]], Awaitable[Outcome]]


@pytest.fixture
def run_with() -> Iterator[RunWith]:
    """Run a suite entry through the engine's executors built on the given [llm] settings."""

    async def run(settings: LlmSettings, entry: dict[str, Any]) -> Outcome:
        executors = build_executors(max_http_connections=8, llm=settings)
        test = parse_test(entry)
        try:
            return await executors[test.kind].execute(Job(1, 1, test, 60.0, _no_external_id))
        finally:
            await close_executors(executors)

    yield run
