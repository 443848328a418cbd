"""The simulator through twilio's own Python client: calls end to end, outcomes, hang-ups, errors."""

from __future__ import annotations

import io
import wave

import httpx
import pytest
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from callboard.core.demo.receptionist import ASK_WHEN, HOURS
from callboard.core.simulator.personas import GOODBYE, VOICEMAIL_GREETING
from tests.simulator.helpers import (
    ACCOUNT_SID,
    CLINIC,
    LONG_RING,
    SERVICE_SID,
    SHORT_GREETING,
    booking_script,
    finished,
    place,
    silence,
    wait_for,
)
from tests.simulator.twilio_support import SimulatorHttpClient


def test_clinic_call_from_dial_to_transcript(twilio: Client, http: SimulatorHttpClient) -> None:
    created = place(
        twilio, CLINIC, booking_script(), record=True, recording_channels="dual", trim="do-not-trim"
    )
    assert (created.status, created.direction, created.duration, created.price) == (
        "queued",
        "outbound-api",
        None,
        None,
    )
    assert created.sid.startswith("CA") and len(created.sid) == 34
    call = finished(created)
    assert call.status == "completed"
    assert call.answered_by is None  # no MachineDetection asked for
    assert call.end_time is not None and call.start_time is not None
    # Timestamps have whole seconds, so they agree with the duration to within a second.
    assert int(call.duration) == pytest.approx((call.end_time - call.start_time).total_seconds(), abs=1)
    assert call.price is None  # Twilio prices a call some time after it ends
    priced = wait_for(call.fetch, lambda fetched: fetched.price is not None)
    assert priced.price == "-0.01300" and priced.price_unit == "USD"
    # The script: 2 + 2.4 (six words) + 5 + 1.2 + 7 seconds, then <Hangup/>.
    assert int(call.duration) == 18

    [recording] = twilio.calls(call.sid).recordings.list()
    assert recording.sid.startswith("RE") and recording.call_sid == call.sid
    assert (recording.channels, recording.status, recording.duration) == (2, "completed", call.duration)

    transcript = twilio.intelligence.v2.transcripts.create(
        service_sid=SERVICE_SID,
        channel={"media_properties": {"source_sid": recording.sid}},
        customer_key="run-42",
    )
    assert transcript.sid.startswith("GT") and transcript.status == "queued"
    transcript = wait_for(transcript.fetch, lambda fetched: fetched.status == "completed")
    assert transcript.customer_key == "run-42" and transcript.duration == 18
    sentences = twilio.intelligence.v2.transcripts(transcript.sid).sentences.list()
    said = [(s.media_channel, float(s.start_time), s.transcript) for s in sentences]
    caller = [(start, text) for channel, start, text in said if channel == 1]
    agent = [text for channel, _, text in said if channel == 2]
    assert caller == [(2.0, "I'd like to book a cleaning"), (9.4, "Tuesday at 3pm")]
    # The greeting is cut off when the caller starts talking at 2 s (barge-in).
    assert agent[0] == "Hello, this is"
    assert float(sentences[0].start_time) == 0.8  # first word
    assert ASK_WHEN in agent
    assert any("You're booked for Tuesday at 3pm." in text for text in agent)
    agent_starts = [float(s.start_time) for s in sentences if s.media_channel == 2]
    assert agent_starts[1] == pytest.approx(4.4 + 1.0)  # the caller stops at 4.4, turn latency 1 s
    assert [s.sentence_index for s in sentences] == list(range(len(sentences)))
    assert all(float(s.end_time) <= 18 for s in sentences)
    assert all(s.words is None for s in sentences)  # WordTimestamps defaults to false, as on Twilio
    timed = twilio.intelligence.v2.transcripts(transcript.sid).sentences.list(word_timestamps=True)
    assert timed[0].words[0] == {"word": "Hello,", "start_time": "0.8", "end_time": "1.2"}


def test_recording_media_and_metadata(twilio: Client, http: SimulatorHttpClient, sim_url: str) -> None:
    script = booking_script()
    call = finished(place(twilio, CLINIC, script, record=True, recording_channels="dual", trim="do-not-trim"))
    [recording] = twilio.calls(call.sid).recordings.list()
    fetched = twilio.recordings(recording.sid).fetch()
    assert (fetched.call_sid, fetched.channels, fetched.price, fetched.source) == (
        call.sid,
        2,
        "-0.00250",
        "OutboundAPI",
    )
    assert fetched.media_url == f"{sim_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording.sid}"
    auth = (ACCOUNT_SID, twilio.password)
    wav = httpx.get(f"{fetched.media_url}.wav", auth=auth)
    assert wav.headers["content-type"] == "audio/x-wav"
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (2, 2, 8000)
        assert audio.getnframes() == 18 * 8000
    assert httpx.get(fetched.media_url, auth=auth).content == wav.content  # no extension: WAV
    mp3 = httpx.get(f"{fetched.media_url}.mp3", auth=auth)
    assert mp3.headers["content-type"] == "audio/mpeg" and mp3.content[:2] == b"\xff\xfb"


def test_mono_recording_puts_everyone_on_channel_one(twilio: Client, http: SimulatorHttpClient) -> None:
    call = finished(place(twilio, CLINIC, booking_script(), record=True))
    [recording] = twilio.calls(call.sid).recordings.list()
    assert recording.channels == 1
    transcript = twilio.intelligence.v2.transcripts.create(
        service_sid=SERVICE_SID, channel={"media_properties": {"source_sid": recording.sid}}
    )
    wait_for(transcript.fetch, lambda fetched: fetched.status == "completed")
    sentences = twilio.intelligence.v2.transcripts(transcript.sid).sentences.list(page_size=2)
    assert len(sentences) > 2  # the client followed next_page_url across pages
    assert {s.media_channel for s in sentences} == {1}


def test_no_recording_without_record(twilio: Client, http: SimulatorHttpClient) -> None:
    call = finished(place(twilio, CLINIC, booking_script()))
    assert twilio.calls(call.sid).recordings.list() == []


def test_goodbye_makes_the_clinic_hang_up(
    twilio: Client, http: SimulatorHttpClient, admin: httpx.Client
) -> None:
    script = VoiceResponse()
    script.pause(length=1)
    script.say("What are your opening hours?")
    script.pause(length=12)
    script.say("Thanks, bye")
    script.pause(length=60)
    call = finished(place(twilio, CLINIC, script))
    [seen] = admin.get("/_sim/calls").json()["calls"]
    agent = [turn["text"] for turn in seen["conversation"] if turn["speaker"] == "agent"]
    assert agent[-2:] == [HOURS, GOODBYE]
    # 1 + 2 + 12 + 0.8 (two words) + 1 s latency + 2.8 s goodbye: long before the minute of silence ends.
    assert int(call.duration) == 20


@pytest.mark.parametrize(
    ("number", "status", "error_code"),
    [("+15550100002", "busy", None), ("+15550100003", "no-answer", None), ("+15550100004", "failed", 13224)],
)
def test_calls_that_are_never_answered(
    twilio: Client,
    http: SimulatorHttpClient,
    admin: httpx.Client,
    number: str,
    status: str,
    error_code: int | None,
) -> None:
    call = finished(place(twilio, number, record=True, timeout=20))
    assert (call.status, call.duration, call.price, call.answered_by) == (status, "0", None, None)
    assert twilio.calls(call.sid).recordings.list() == []
    [seen] = admin.get("/_sim/calls").json()["calls"]
    assert (seen["status"], seen["error_code"]) == (status, error_code)
    if status == "no-answer":  # rang for exactly the Timeout given
        assert call.end_time is not None and call.start_time is not None
        assert (call.end_time - call.start_time).total_seconds() == pytest.approx(20, abs=1)


@pytest.mark.parametrize(
    ("number", "detection", "answered_by"),
    [
        ("+15550100005", "DetectMessageEnd", "machine_end_beep"),
        ("+15550100005", "Enable", "machine_start"),
        (SHORT_GREETING, "Enable", "human"),
        # The clinic's 8-second greeting is longer than the 2400 ms speech threshold: a machine to Twilio.
        (CLINIC, "Enable", "machine_start"),
        (CLINIC, "DetectMessageEnd", "machine_end_silence"),
        ("+15550100008", "Enable", "unknown"),
    ],
)
def test_answering_machine_detection(
    twilio: Client, http: SimulatorHttpClient, number: str, detection: str, answered_by: str
) -> None:
    call = finished(place(twilio, number, machine_detection=detection))
    assert (call.status, call.answered_by) == ("completed", answered_by)


def test_voicemail_waits_for_the_beep_before_the_script(twilio: Client, http: SimulatorHttpClient) -> None:
    script = VoiceResponse()
    script.say("Hi, this is a message for the clinic")
    call = finished(
        place(
            twilio,
            "+15550100005",
            script,
            machine_detection="DetectMessageEnd",
            record=True,
            recording_channels="dual",
        )
    )
    [recording] = twilio.calls(call.sid).recordings.list()
    transcript = twilio.intelligence.v2.transcripts.create(
        service_sid=SERVICE_SID, channel={"media_properties": {"source_sid": recording.sid}}
    )
    wait_for(transcript.fetch, lambda fetched: fetched.status == "completed")
    sentences = twilio.intelligence.v2.transcripts(transcript.sid).sentences.list()
    agent = " ".join(s.transcript for s in sentences if s.media_channel == 2)
    assert agent == VOICEMAIL_GREETING
    [message] = [s for s in sentences if s.media_channel == 1]
    last_agent_end = max(float(s.end_time) for s in sentences if s.media_channel == 2)
    assert float(message.start_time) >= last_agent_end + 0.5  # after the greeting and the beep


def test_slow_agent_takes_its_time(twilio: Client, http: SimulatorHttpClient, admin: httpx.Client) -> None:
    script = VoiceResponse()
    script.pause(length=6)
    script.say("What are your hours?")
    script.pause(length=10)
    finished(place(twilio, "+15550100006", script))
    [seen] = admin.get("/_sim/calls").json()["calls"]
    greeting, question, answer = seen["conversation"]
    assert (greeting["speaker"], greeting["start"]) == ("agent", 4.0)
    assert answer["start"] == pytest.approx(question["end"] + 3.5)


def test_time_limit_cuts_the_call(twilio: Client, http: SimulatorHttpClient) -> None:
    call = finished(place(twilio, CLINIC, silence(600), time_limit=7))
    assert (call.status, call.duration) == ("completed", "7")


def test_cancel_while_ringing(twilio: Client, http: SimulatorHttpClient) -> None:
    call = place(twilio, LONG_RING, record=True, timeout=600)
    wait_for(call.fetch, lambda fetched: fetched.status == "ringing")
    canceled = twilio.calls(call.sid).update(status="canceled")
    assert (canceled.status, canceled.duration, canceled.price) == ("canceled", "0", None)
    assert call.fetch().status == "canceled"
    assert twilio.calls(call.sid).recordings.list() == []
    # Status=completed on a call that is no longer active changes nothing.
    assert twilio.calls(call.sid).update(status="completed").status == "canceled"


def test_completed_while_ringing_cancels(twilio: Client, http: SimulatorHttpClient) -> None:
    call = place(twilio, LONG_RING, timeout=600)
    wait_for(call.fetch, lambda fetched: fetched.status == "ringing")
    assert twilio.calls(call.sid).update(status="completed").status == "canceled"


def test_hang_up_in_progress(twilio: Client, http: SimulatorHttpClient) -> None:
    call = place(twilio, CLINIC, silence(600), record=True, trim="do-not-trim")
    wait_for(call.fetch, lambda fetched: fetched.status == "in-progress")
    # Twilio leaves a call in progress alone when asked to cancel it.
    assert twilio.calls(call.sid).update(status="canceled").status == "in-progress"
    ended = twilio.calls(call.sid).update(status="completed")
    assert ended.status == "completed" and int(ended.duration) < 600
    [recording] = twilio.calls(call.sid).recordings.list()
    assert recording.duration == ended.duration
