"""The httpx client behind twilio's REST client: hosts rewritten, forms encoded, answers handed back."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import httpx
import pytest
from twilio.http.response import Response
from twilio.rest import Client

from callboard.core.telephony import HttpxTwilioClient, last_response_headers
from callboard.core.telephony.http_client import form_pairs
from tests.telephony.support import ACCOUNT_SID, AUTH_TOKEN


def recording_client(
    seen: list[httpx.Request], status: int = 200, headers: dict[str, str] | None = None
) -> HttpxTwilioClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"sid": "CA" + "1" * 32, "status": "queued"}, headers=headers)

    return HttpxTwilioClient("http://sim:1/", "http://sim:1/intel", transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("url", "rewritten"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts.json", "http://sim:1/2010-04-01/Accounts.json"),
        ("https://api.dublin.ie1.twilio.com/2010-04-01/Calls", "http://sim:1/2010-04-01/Calls"),
        ("https://intelligence.twilio.com/v2/Transcripts?Page=1", "http://sim:1/intel/v2/Transcripts?Page=1"),
        ("https://api.twilio.com", "http://sim:1"),
        ("https://api.twilio.com.example.org/x", "https://api.twilio.com.example.org/x"),
        ("https://studio.twilio.com/v2/Flows", "https://studio.twilio.com/v2/Flows"),
        ("http://sim:1/v2/Transcripts/GT1/Sentences", "http://sim:1/v2/Transcripts/GT1/Sentences"),
    ],
)
def test_twilio_hosts_go_to_the_configured_bases(url: str, rewritten: str) -> None:
    assert recording_client([]).rewrite(url) == rewritten


def test_form_pairs_repeat_list_keys_and_spell_booleans() -> None:
    pairs = form_pairs({"To": "+1555", "Event": ["initiated", "answered"], "Record": True, "Skip": None})
    assert pairs == [("To", "+1555"), ("Event", "initiated"), ("Event", "answered"), ("Record", "true")]


async def test_request_sends_form_auth_and_query_and_returns_twilio_response() -> None:
    seen: list[httpx.Request] = []
    client = recording_client(seen, status=201, headers={"Retry-After": "3"})
    response = await client.request(
        "post",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json",
        params={"Page": 2, "Status": ["busy", "failed"]},
        data={"To": "+15550100001", "StatusCallbackEvent": ["initiated", "completed"], "Record": False},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=("AC1", "token"),
        timeout=5,
    )
    await client.close()

    [request] = seen
    assert request.method == "POST"
    assert request.url.path == "/2010-04-01/Accounts/AC1/Calls.json"
    assert request.url.params.get_list("Status") == ["busy", "failed"]
    assert parse_qsl(request.content.decode()) == [
        ("To", "+15550100001"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "completed"),
        ("Record", "false"),
    ]
    assert request.headers["Authorization"] == httpx.BasicAuth("AC1", "token")._auth_header
    assert isinstance(response, Response)
    assert response.status_code == 201 and response.ok
    assert response.headers["retry-after"] == "3"
    assert last_response_headers()["Retry-After"] == "3"


async def test_request_refuses_a_non_positive_timeout() -> None:
    with pytest.raises(ValueError):
        await recording_client([]).request("GET", "https://api.twilio.com/", timeout=0)


async def test_last_response_is_kept_per_task() -> None:
    async def fetch(retry_after: str) -> str:
        client = recording_client([], headers={"Retry-After": retry_after})
        await client.request("GET", "https://api.twilio.com/x")
        await asyncio.sleep(0.01)  # the other task's answer arrives meanwhile
        return last_response_headers()["Retry-After"]

    assert await asyncio.gather(fetch("1"), fetch("2")) == ["1", "2"]


async def test_twilio_rest_client_runs_on_it() -> None:
    seen: list[httpx.Request] = []
    client = recording_client(seen, status=201)
    twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=client)
    call = await twilio.calls.create_async(
        to="+15550100001",
        from_="+15550009999",
        twiml="<Response/>",
        status_callback_event=["initiated", "answered"],
    )
    await client.close()

    assert call.sid == "CA" + "1" * 32
    [request] = seen
    assert str(request.url) == f"http://sim:1/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    form = parse_qsl(request.content.decode())
    assert ("StatusCallbackEvent", "initiated") in form and ("StatusCallbackEvent", "answered") in form
    assert request.headers["Authorization"] == httpx.BasicAuth(ACCOUNT_SID, AUTH_TOKEN)._auth_header
