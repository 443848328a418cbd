"""The example suites and the demo agent agree: every check of every example passes against it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from callboard.core.demo import create_app
from callboard.core.execution.base import Job
from callboard.core.executors.registry import build_executors, close_executors
from callboard.core.models import TestDefinition, dump_test, parse_test
from callboard.core.suites import load_suites
from tests.conftest import EXAMPLES

EXAMPLE_FILES = ("http.toml", "conversation.toml", "api.csv")
EXAMPLE_AGENT = "http://127.0.0.1:8700"


@pytest.fixture
async def agent_url() -> AsyncIterator[str]:
    # A little latency, as a real agent has; the examples' latency bounds are far above it.
    server = TestServer(create_app(latency_ms=5), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


def retarget(test: TestDefinition, base_url: str) -> TestDefinition:
    """The test with the examples' agent address replaced by ``base_url``."""
    text = json.dumps(dump_test(test))
    assert EXAMPLE_AGENT in text, f"{test.name} does not target the demo agent"
    return parse_test(json.loads(text.replace(EXAMPLE_AGENT, base_url)))


async def _no_external_id(external_id: str) -> None:
    return None


async def test_every_example_check_passes(agent_url: str) -> None:
    tests = load_suites([EXAMPLES / name for name in EXAMPLE_FILES])
    assert {test.kind for test in tests} == {"http", "conversation"} and len(tests) >= 9
    executors = build_executors(max_http_connections=4)
    try:
        for test in tests:
            job = Job(
                run_id=1,
                attempt=1,
                test=retarget(test, agent_url),
                timeout_s=30,
                record_external_id=_no_external_id,
            )
            outcome = await executors[test.kind].execute(job)
            failed = [check for check in outcome.checks if not check.passed]
            assert outcome.checks and not failed, f"{test.name}: {failed}"
    finally:
        await close_executors(executors)
