"""One simulator for the session (1 simulated second = 2 ms), twilio's real client pointed at it, and a
check of every JSON answer against Twilio's OpenAPI documents after each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from twilio.rest import Client

from callboard.core.simulator import simulator_thread
from tests.simulator.helpers import ACCOUNT_SID, AUTH_TOKEN, config
from tests.simulator.twilio_support import SimulatorHttpClient, validate_exchange


@pytest.fixture(scope="session")
def sim_url() -> Iterator[str]:
    """The shared simulator's base URL."""
    with simulator_thread(config()) as url:
        yield url


@pytest.fixture
def admin(sim_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for the simulator's own routes; the simulator starts each test empty."""
    with httpx.Client(base_url=sim_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10) as client:
        assert client.post("/_sim/reset").status_code == 200
        yield client


@pytest.fixture
def http(sim_url: str, admin: httpx.Client) -> Iterator[SimulatorHttpClient]:
    """twilio's HTTP client rewritten to the simulator; afterwards every JSON answer must match the
    published schema of its endpoint."""
    client = SimulatorHttpClient(sim_url)
    yield client
    for exchange in client.exchanges:
        validate_exchange(exchange)


@pytest.fixture
def twilio(http: SimulatorHttpClient) -> Client:
    """twilio's real REST client, talking to the simulator."""
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
