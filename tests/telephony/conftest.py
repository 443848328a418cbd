"""The simulator tests' simulator (1 simulated second = 2 ms, emptied before each test), and a call
executor talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from callboard.core.executors.call import CallExecutor
from tests.simulator.conftest import admin, sim_url  # noqa: F401 - fixtures shared with the simulator tests
from tests.telephony.support import settings


@pytest.fixture
async def executor(sim_url: str, admin: httpx.Client) -> AsyncIterator[CallExecutor]:  # noqa: F811
    """A call executor talking to the simulator."""
    call_executor = CallExecutor(settings(sim_url))
    yield call_executor
    await call_executor.aclose()
