"""Where the simulator behaves like Twilio in ways that hide defects: trimmed recordings, the CPS queue,
late prices, one transcript per recording, failing transcripts, the agent's channel, AMD thresholds,
unsupported TwiML verbs and the Calls list's StartTime filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from callboard.core.simulator import simulator_thread
from tests.simulator.helpers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CALLER_ID,
    CLINIC,
    SERVICE_SID,
    config,
    finished,
    place,
    silence,
    wait_for,
)
from tests.simulator.twilio_support import SimulatorHttpClient, validate_exchange

SLOW = "+15550100006"  # first word 4 s after the answer
TRANSCRIPT_FAILS = "+15550100009"


def _hello() -> VoiceResponse:
    script = VoiceResponse()
    script.pause(length=6)
    script.say("Hello")
    script.pause(length=3)
    return script


def _sentences(twilio: Client, recording_sid: str) -> list[tuple[int, float, str]]:
    transcript = twilio.intelligence.v2.transcripts.create(
        service_sid=SERVICE_SID, channel={"media_properties": {"source_sid": recording_sid}}
    )
    wait_for(transcript.fetch, lambda fetched: fetched.status == "completed")
    found = twilio.intelligence.v2.transcripts(transcript.sid).sentences.list()
    return [(int(s.media_channel), float(s.start_time), s.transcript) for s in found]


def _recorded(twilio: Client, to: str, **params: object) -> str:
    call = finished(place(twilio, to, _hello(), record=True, recording_channels="dual", **params))
    [recording] = twilio.calls(call.sid).recordings.list()
    return str(recording.sid)


@pytest.mark.parametrize(("trim", "first_word_s"), [(None, 0.0), ("trim-silence", 0.0), ("do-not-trim", 4.0)])
def test_trim_silence_is_the_default_and_moves_the_first_word_to_zero(
    twilio: Client, http: SimulatorHttpClient, trim: str | None, first_word_s: float
) -> None:
    params = {"trim": trim} if trim else {}
    sentences = _sentences(twilio, _recorded(twilio, SLOW, **params))
    agent_starts = [start for channel, start, _ in sentences if channel == 2]
    assert agent_starts[0] == first_word_s


def test_trimmed_recording_is_shorter_than_the_call(twilio: Client, http: SimulatorHttpClient) -> None:
    call = finished(place(twilio, SLOW, _hello(), record=True, recording_channels="dual"))
    [recording] = twilio.calls(call.sid).recordings.list()
    assert int(recording.duration) < int(call.duration)


def test_the_agent_channel_is_configurable() -> None:
    with simulator_thread(config(agent_channel=1)) as url:
        http = SimulatorHttpClient(url)
        twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
        sentences = _sentences(twilio, _recorded(twilio, CLINIC, trim="do-not-trim"))
        assert [text for channel, _, text in sentences if channel == 2] == ["Hello"]
        assert any(
            text.startswith("Hello, this is Bright Smile") for channel, _, text in sentences if channel == 1
        )
        for exchange in http.exchanges:
            validate_exchange(exchange)


def test_one_transcript_per_recording_listed_by_source_and_deletable(
    twilio: Client, http: SimulatorHttpClient
) -> None:
    recording_sid = _recorded(twilio, CLINIC)
    channel = {"media_properties": {"source_sid": recording_sid}}
    first = twilio.intelligence.v2.transcripts.create(service_sid=SERVICE_SID, channel=channel)
    with pytest.raises(TwilioRestException) as caught:
        twilio.intelligence.v2.transcripts.create(service_sid=SERVICE_SID, channel=channel)
    assert (caught.value.status, caught.value.code) == (409, 20409)
    listed = twilio.intelligence.v2.transcripts.list(source_sid=recording_sid)
    assert [item.sid for item in listed] == [first.sid]
    assert twilio.intelligence.v2.transcripts.list(source_sid="RE" + "0" * 32) == []
    assert twilio.intelligence.v2.transcripts(first.sid).delete() is True
    assert twilio.intelligence.v2.transcripts.list(source_sid=recording_sid) == []
    again = twilio.intelligence.v2.transcripts.create(service_sid=SERVICE_SID, channel=channel)
    assert again.sid != first.sid


def test_automatic_transcription_makes_one_for_every_recording() -> None:
    with simulator_thread(config(auto_transcribe_service_sid=SERVICE_SID)) as url:
        twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=SimulatorHttpClient(url))
        recording_sid = _recorded(twilio, CLINIC)
        [made] = twilio.intelligence.v2.transcripts.list(source_sid=recording_sid)
        assert made.service_sid == SERVICE_SID
        with pytest.raises(TwilioRestException) as caught:
            channel = {"media_properties": {"source_sid": recording_sid}}
            twilio.intelligence.v2.transcripts.create(service_sid=SERVICE_SID, channel=channel)
        assert caught.value.status == 409


def test_a_number_whose_transcripts_fail(twilio: Client, http: SimulatorHttpClient) -> None:
    recording_sid = _recorded(twilio, TRANSCRIPT_FAILS)
    transcript = twilio.intelligence.v2.transcripts.create(
        service_sid=SERVICE_SID, channel={"media_properties": {"source_sid": recording_sid}}
    )
    ended = wait_for(transcript.fetch, lambda fetched: fetched.status not in ("queued", "in-progress"))
    assert ended.status == "error"
    assert twilio.intelligence.v2.transcripts(transcript.sid).sentences.list() == []


def test_price_appears_some_time_after_the_end(twilio: Client, http: SimulatorHttpClient) -> None:
    call = finished(place(twilio, CLINIC, silence(3)))
    assert call.status == "completed" and call.price is None
    assert wait_for(call.fetch, lambda fetched: fetched.price is not None).price == "-0.01300"


def test_calls_over_the_cps_cap_wait_in_the_queue() -> None:
    with simulator_thread(config(cps=0.5, cps_burst=1.0)) as url:
        twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=SimulatorHttpClient(url))
        created = [place(twilio, CLINIC, silence(1)) for _ in range(4)]
        assert [call.status for call in created] == ["queued"] * 4  # none refused
        with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as admin:
            waits = [call["cps_wait_ms"] for call in admin.get("/_sim/calls").json()["calls"]]
        # The first takes the one token; each later call waits for the one after (a token per 2 s).
        assert waits[0] == 0 and 0 < waits[1] < waits[2] < waits[3]
        queue_times = [int(call.queue_time) for call in created]
        assert queue_times == sorted(queue_times) and queue_times[3] > queue_times[0]


def test_unsupported_twiml_verbs_are_refused_with_twilios_error(
    twilio: Client, http: SimulatorHttpClient
) -> None:
    script = VoiceResponse()
    script.say("Hi")
    script.gather().say("Press 1")
    with pytest.raises(TwilioRestException) as caught:
        place(twilio, CLINIC, script)
    assert (caught.value.status, caught.value.code) == (400, 13750)
    assert "<Gather>" in caught.value.msg


def test_async_amd_starts_the_script_at_once(twilio: Client, http: SimulatorHttpClient) -> None:
    script = VoiceResponse()
    script.say("Hello there")
    script.pause(length=10)
    params = {
        "record": True,
        "recording_channels": "dual",
        "trim": "do-not-trim",
        "machine_detection": "Enable",
    }
    waited = finished(place(twilio, CLINIC, script, **params))
    at_once = finished(place(twilio, CLINIC, script, async_amd="true", **params))
    starts = []
    for call in (waited, at_once):
        [recording] = twilio.calls(call.sid).recordings.list()
        sentences = _sentences(twilio, recording.sid)
        starts.append(next(start for channel, start, text in sentences if text == "Hello there"))
    assert starts[1] == 0.0 and starts[0] > 2.4  # blocking AMD holds the TwiML until it decides


def test_the_calls_list_filters_by_to_from_and_start_time(
    twilio: Client, http: SimulatorHttpClient, admin: httpx.Client
) -> None:
    call = finished(place(twilio, CLINIC, silence(2)))
    today = datetime.now(UTC).date()
    found = twilio.calls.list(to=CLINIC, from_=CALLER_ID, start_time_after=today.isoformat())
    assert [item.sid for item in found] == [call.sid]
    tomorrow = (today + timedelta(days=2)).isoformat()
    assert twilio.calls.list(to=CLINIC, start_time_after=tomorrow) == []
    assert twilio.calls.list(to="+15550100002", from_=CALLER_ID) == []


@pytest.fixture
def slow_answers() -> Iterator[str]:
    """A simulator that holds each create request's answer 2 real seconds after placing the call."""
    with simulator_thread(config(create_answer_hold_s=2.0)) as url:
        yield url


def test_fault_hook_holds_the_answer_after_placing_the_call(slow_answers: str) -> None:
    form = {"To": CLINIC, "From": CALLER_ID, "Twiml": "<Response><Pause length='1'/></Response>"}
    url = f"{slow_answers}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, data=form, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=0.3)
    with httpx.Client(base_url=slow_answers, auth=(ACCOUNT_SID, AUTH_TOKEN)) as admin:
        assert len(admin.get("/_sim/calls").json()["calls"]) == 1
