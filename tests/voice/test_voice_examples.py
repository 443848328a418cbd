"""examples/voice.toml against the simulator's Media Streams agent: every check of every example passes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from callboard.core.models import dump_test, parse_test
from callboard.core.simulator import simulator_process
from callboard.core.suites import load_suites
from tests.conftest import EXAMPLES
from tests.voice.support import run_voice

EXAMPLE_SIMULATOR = "ws://127.0.0.1:8710"


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with simulator_process() as url:
        yield url


async def test_every_voice_example_passes(sim_url: str) -> None:
    tests = load_suites([EXAMPLES / "voice.toml"])
    assert {test.kind for test in tests} == {"voice"} and len(tests) == 2
    local = sim_url.replace("http://", "ws://", 1)
    retargeted = [
        parse_test(json.loads(json.dumps(dump_test(t)).replace(EXAMPLE_SIMULATOR, local))) for t in tests
    ]
    outcomes = await asyncio.gather(
        *(run_voice(test, stt="openai", stt_url=sim_url + "/v1") for test in retargeted)
    )
    for test, outcome in zip(tests, outcomes, strict=True):
        failed = [(check.name, check.actual, check.message) for check in outcome.checks if not check.passed]
        assert outcome.checks and not failed, f"{test.name}: {failed}"
