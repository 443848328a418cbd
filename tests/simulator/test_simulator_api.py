"""The simulator's API surface through twilio's own client: auth, errors, admin routes, paging, and
every endpoint's answers against Twilio's published schemas."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest
from jsonschema import ValidationError
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tests.simulator.helpers import (
    ACCOUNT_SID,
    API_KEY,
    API_SECRET,
    CALLER_ID,
    CLINIC,
    SERVICE_SID,
    booking_script,
    finished,
    place,
    silence,
    wait_for,
)
from tests.simulator.twilio_support import SimulatorHttpClient, validate_exchange


def test_unknown_number_is_refused_and_no_call_exists(
    twilio: Client, http: SimulatorHttpClient, admin: httpx.Client
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        place(twilio, "+15551234567")
    assert (caught.value.status, caught.value.code) == (400, 21215)
    assert admin.get("/_sim/calls").json()["calls"] == []


def test_bad_requests(twilio: Client, http: SimulatorHttpClient) -> None:
    with pytest.raises(TwilioRestException) as caught:
        twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml="<Response><Say>unclosed</Response>")
    assert (caught.value.status, caught.value.code) == (400, 12100)
    with pytest.raises(TwilioRestException) as caught:
        twilio.calls.create(to=CLINIC, from_=CALLER_ID)
    assert caught.value.code == 21205
    with pytest.raises(TwilioRestException) as caught:
        twilio.calls.create(to="", from_=CALLER_ID, twiml=str(silence(1)))
    assert caught.value.code == 21201
    with pytest.raises(TwilioRestException) as caught:
        twilio.calls.create(to="client:alice", from_=CALLER_ID, twiml=str(silence(1)))
    assert caught.value.code == 21211
    with pytest.raises(TwilioRestException) as caught:
        twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml=str(silence(1)), timeout="soon")
    assert caught.value.code == 20001
    with pytest.raises(TwilioRestException) as caught:
        twilio.intelligence.v2.transcripts.create(
            service_sid=SERVICE_SID, channel={"media_properties": {"source_sid": "RE" + "0" * 32}}
        )
    assert (caught.value.status, caught.value.code) == (400, 20001)


def test_wrong_credentials_get_401_20003(twilio: Client, http: SimulatorHttpClient) -> None:
    for username, password in [(ACCOUNT_SID, "wrong"), (API_KEY, "wrong"), ("AC" + "f" * 32, "x")]:
        client = Client(username, password, ACCOUNT_SID, http_client=http)
        with pytest.raises(TwilioRestException) as caught:
            client.calls.create(to=CLINIC, from_=CALLER_ID, twiml=str(silence(1)))
        assert (caught.value.status, caught.value.code) == (401, 20003)
    with pytest.raises(TwilioRestException) as caught:  # right credentials, someone else's account
        Client(ACCOUNT_SID, twilio.password, "AC" + "f" * 32, http_client=http).calls(CLINIC).fetch()
    assert (caught.value.status, caught.value.code) == (401, 20003)
    with pytest.raises(TwilioRestException) as caught:
        Client(ACCOUNT_SID, "wrong", http_client=http).intelligence.v2.transcripts("GT" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (401, 20003)


def test_api_key_and_secret_are_accepted(http: SimulatorHttpClient, admin: httpx.Client) -> None:
    client = Client(API_KEY, API_SECRET, ACCOUNT_SID, http_client=http)
    call = finished(place(client, CLINIC, silence(1)))
    assert call.status == "completed" and call.account_sid == ACCOUNT_SID


def test_unknown_sids_get_404_20404(twilio: Client, http: SimulatorHttpClient) -> None:
    call_sid, recording_sid, transcript_sid = "CA" + "0" * 32, "RE" + "0" * 32, "GT" + "0" * 32
    attempts = [
        (lambda: twilio.calls(call_sid).fetch(), call_sid),
        (lambda: twilio.calls(call_sid).update(status="completed"), call_sid),
        (lambda: twilio.recordings(recording_sid).fetch(), recording_sid),
        (lambda: twilio.intelligence.v2.transcripts(transcript_sid).fetch(), transcript_sid),
    ]
    for attempt, sid in attempts:
        with pytest.raises(TwilioRestException) as caught:
            attempt()
        assert (caught.value.status, caught.value.code) == (404, 20404)
        assert sid in caught.value.msg
    # twilio's list() raises a bare TwilioException for any non-200 page, so read the answer itself.
    pages = [
        lambda: twilio.calls(call_sid).recordings.list(),
        lambda: twilio.intelligence.v2.transcripts(transcript_sid).sentences.list(),
    ]
    for page in pages:
        with pytest.raises(TwilioException):
            page()
        last = http.exchanges[-1]
        assert (last.status, json.loads(last.body)["code"]) == (404, 20404)


def test_admin_lists_every_call_and_resets(
    twilio: Client, http: SimulatorHttpClient, admin: httpx.Client
) -> None:
    call = place(twilio, CLINIC)
    calls = admin.get("/_sim/calls").json()["calls"]
    assert [(c["sid"], c["to"], c["from"]) for c in calls] == [(call.sid, CLINIC, CALLER_ID)]
    assert admin.get("/_sim/calls", auth=(ACCOUNT_SID, "wrong")).status_code == 401
    assert admin.post("/_sim/reset").json() == {"reset": True}
    assert admin.get("/_sim/calls").json()["calls"] == []


def test_calls_list_pages(twilio: Client, http: SimulatorHttpClient) -> None:
    sids = {place(twilio, CLINIC).sid for _ in range(3)}
    place(twilio, "+15550100002")
    listed = twilio.calls.list(to=CLINIC, page_size=2)
    assert {call.sid for call in listed} == sids


def test_every_endpoint_answers_with_the_published_schema(twilio: Client, http: SimulatorHttpClient) -> None:
    call = place(twilio, CLINIC, booking_script(), record=True, recording_channels="dual")
    twilio.calls.list(page_size=5)
    call = finished(call)
    [recording] = twilio.calls(call.sid).recordings.list()
    twilio.calls(call.sid).recordings(recording.sid).fetch()
    twilio.recordings(recording.sid).fetch()
    twilio.calls(call.sid).update(status="completed")
    transcript = twilio.intelligence.v2.transcripts.create(
        service_sid=SERVICE_SID, channel={"media_properties": {"source_sid": recording.sid}}
    )
    wait_for(transcript.fetch, lambda fetched: fetched.status == "completed")
    twilio.intelligence.v2.transcripts(transcript.sid).sentences.list()
    checked = {validate_exchange(exchange) for exchange in http.exchanges}
    assert checked >= {
        "/2010-04-01/Accounts/{AccountSid}/Calls.json",
        "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json",
        "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings.json",
        "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings/{Sid}.json",
        "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json",
        "/v2/Transcripts",
        "/v2/Transcripts/{Sid}",
        "/v2/Transcripts/{TranscriptSid}/Sentences",
    }


def test_the_schema_check_catches_wrong_shapes(twilio: Client, http: SimulatorHttpClient) -> None:
    place(twilio, CLINIC).fetch()
    good = http.exchanges[-1]
    body = json.loads(good.body)
    wrong_shapes = [
        {**body, "surprise": 1},  # a field Twilio does not have
        {key: value for key, value in body.items() if key != "queue_time"},  # a field missing
        {**body, "duration": 5},  # a number where Twilio sends a string
        {**body, "sid": "CA123"},  # not a CA SID
        {**body, "status": "ended"},  # not a call status
        {**body, "date_created": "2024-01-01T00:00:00Z"},  # not RFC 2822
    ]
    for wrong in wrong_shapes:
        with pytest.raises(ValidationError):
            validate_exchange(replace(good, body=json.dumps(wrong)))
    http.exchanges.clear()  # the wrong shapes were made up here, not answered by the simulator
