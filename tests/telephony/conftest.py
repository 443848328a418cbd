"""One simulator for the folder (1 simulated second = 2 ms), emptied before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from callboard.core.executors.call import CallExecutor
from callboard.core.simulator import simulator_thread
from tests.telephony.support import ACCOUNT_SID, AUTH_TOKEN, settings, sim_config


@pytest.fixture(scope="session")
def sim_url() -> Iterator[str]:
    """The shared simulator's base URL."""
    with simulator_thread(sim_config()) as url:
        yield url


@pytest.fixture
def admin(sim_url: str) -> Iterator[httpx.Client]:
    """The simulator's own routes (/_sim/calls); the simulator starts each test empty."""
    with httpx.Client(base_url=sim_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10) as client:
        assert client.post("/_sim/reset").status_code == 200
        yield client


@pytest.fixture
async def executor(sim_url: str, admin: httpx.Client) -> AsyncIterator[CallExecutor]:
    """A call executor talking to the simulator."""
    call_executor = CallExecutor(settings(sim_url))
    yield call_executor
    await call_executor.aclose()
