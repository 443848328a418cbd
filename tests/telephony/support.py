"""Shared pieces of the telephony tests: settings pointed at the simulator, jobs, a tapped transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
from pydantic import SecretStr

from callboard.core.config import TwilioSettings
from callboard.core.execution.base import Job
from callboard.core.models import CallTest, parse_test
from tests.simulator.helpers import (  # the simulator the call tests talk to, as its own tests set it up
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLINIC,
    SERVICE_SID,
)
from tests.simulator.helpers import CALLER_ID as FROM_NUMBER

BUSY = "+15550100002"
NO_ANSWER = "+15550100003"
FAILED = "+15550100004"
VOICEMAIL = "+15550100005"
SLOW = "+15550100006"
SILENT = "+15550100008"
UNKNOWN = "+15557770000"  # not in the table: refused with 21215

# Ask the agent about Sunday, then key 1 and listen: the clinic says "closed" and answers in 1 s.
SUNDAY_SCRIPT: list[dict[str, Any]] = [
    {"pause": 2},
    {"say": "Hi, are you open on Sunday?", "voice": "Polly.Joanna", "language": "en-US"},
    {"pause": 6},
    {"digits": "1"},
    {"pause": 4},
]

Fault = Literal["connect_error", "lost_answer", "unavailable"]


def settings(url: str, **overrides: Any) -> TwilioSettings:
    """Twilio settings pointed at the simulator at ``url``, polling every few milliseconds."""
    values: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": SecretStr(AUTH_TOKEN),
        "from_number": FROM_NUMBER,
        "api_base_url": url,
        "intelligence_base_url": url,
        "intelligence_service_sid": SERVICE_SID,
        "poll_initial_s": 0.005,
        "poll_max_s": 0.02,
    }
    values.update(overrides)
    return TwilioSettings.model_validate(values)


def call_test(phone: str | None = CLINIC, **fields: Any) -> CallTest:
    """A call test (the Sunday script unless ``caller`` is given)."""
    data: dict[str, Any] = {"name": "call", "kind": "call", "phone": phone, "caller": SUNDAY_SCRIPT}
    data.update(fields)
    test = parse_test(data)
    assert isinstance(test, CallTest)
    return test


class Recorder:
    """Stands in for the engine's record_external_id; ``on_record`` runs before it returns."""

    def __init__(self, on_record: Callable[[str], Any] | None = None) -> None:
        self.ids: list[str] = []
        self._on_record = on_record

    async def __call__(self, external_id: str) -> None:
        if self._on_record is not None:
            await self._on_record(external_id)
        self.ids.append(external_id)


def job(test: CallTest, recorder: Recorder | None = None, external_id: str | None = None) -> Job:
    """One attempt of one run of ``test``."""
    return Job(1, 1, test, test.effective_timeout_s(), recorder or Recorder(), external_id)


class TapTransport(httpx.AsyncBaseTransport):
    """The real transport, logging every request; ``fault`` may break chosen requests:
    connect_error (never sent), lost_answer (sent, answer lost), unavailable (a 503 instead)."""

    def __init__(
        self, fault: Callable[[httpx.Request], Fault | None] | None = None, create_delay_s: float = 0.0
    ) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[tuple[str, str]] = []
        self.sent: list[httpx.Request] = []
        self._fault = fault
        self._create_delay_s = create_delay_s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        self.sent.append(request)
        if self._create_delay_s and is_create(request):
            # The request is on its way: shielding must let it arrive even if the run is cancelled now.
            await asyncio.sleep(self._create_delay_s)
        fault = self._fault(request) if self._fault is not None else None
        if fault == "connect_error":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "unavailable":
            body = {"code": 20500, "message": "Service Unavailable", "more_info": "", "status": 503}
            return httpx.Response(503, json=body, request=request)
        response = await self.inner.handle_async_request(request)
        if fault == "lost_answer":
            await response.aread()
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def sim_calls(admin: httpx.Client) -> list[dict[str, Any]]:
    """Every call the simulator was asked to place, oldest first (its admin view)."""
    calls: list[dict[str, Any]] = admin.get("/_sim/calls").json()["calls"]
    return calls


def place_directly(sim_url: str, record: bool, seconds: int = 3) -> str:
    """Create a call straight on the simulator (as an earlier daemon would have); returns its SID."""
    form = {"To": CLINIC, "From": FROM_NUMBER, "Twiml": f"<Response><Pause length='{seconds}'/></Response>"}
    if record:
        form.update({"Record": "true", "RecordingChannels": "dual"})
    url = f"{sim_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    created = httpx.post(url, data=form, auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert created.status_code == 201, created.text
    sid: str = created.json()["sid"]
    return sid


def create_form(tap: TapTransport) -> dict[str, str]:
    """The form of the (only) create-call request the tap saw."""
    [create] = [request for request in tap.sent if is_create(request)]
    return dict(parse_qsl(create.content.decode()))


def is_create(request: httpx.Request) -> bool:
    """The request creates a call."""
    return request.method == "POST" and request.url.path.endswith("/Calls.json")
