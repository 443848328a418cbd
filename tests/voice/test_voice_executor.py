"""The voice executor against the simulator's Media Streams agent (its own process): the agent's log is
the truth that callboard's measurements are held against, and the ways a session can go wrong."""

from __future__ import annotations

import stat
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from callboard.core.execution.base import RunError, TransientError
from callboard.core.simulator import simulator_process
from callboard.core.voice import mulaw
from callboard.core.voice.resample import resample
from callboard.core.voice.tts import EspeakTts
from callboard.core.voice.wav import mono_wav
from tests.voice.support import BUSY, SILENT, run_voice, truth, voice_test, ws_url

TOLERANCE_MS = 100  # the target: within 100 ms of what the agent logged


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with simulator_process() as url:
        yield url


async def test_a_conversation_measured_against_the_agents_own_log(sim_url: str, tmp_path: Path) -> None:
    caller = [
        {"wait": "agent"},
        {"say": "I'd like to book a cleaning"},
        {"wait": "speech"},
        {"pause": 0.8},
        {"say": "Sorry, Tuesday at 3pm"},  # barges in on "when would you like to come in?"
        {"wait": "agent", "expect": [{"agent_says": "(?i)booked", "regex": True}]},
        {"digits": "2"},
        {"wait": "agent", "expect": [{"agent_says": "closed on Sunday"}]},
        {"say": "Thanks, bye"},
        {"wait": "agent"},
    ]
    checks = [
        {"first_word_ms_below": 1500},
        {"turn_latency_p90_ms_below": 1500},
        {"barge_in_stop_ms_below": 600},
        {"agent_says": "Goodbye"},
        {"agent_never_says": "didn't quite catch"},
        {"talk_over_count_max": 0},
        {"late_answer_count_max": 0},
        {"duration_s_below": 60},
    ]
    test = voice_test(ws_url(sim_url), caller, checks)
    outcome = await run_voice(test, tmp_path / "recordings", stt="openai", stt_url=sim_url + "/v1")
    assert [check.name for check in outcome.checks if not check.passed] == []
    events = truth(sim_url, outcome.artifacts["stream_sid"])
    speaks = [event for event in events if event["event"] == "speak"]
    heard = [event for event in events if event["event"] == "caller_speech"]
    [clear] = [event for event in events if event["event"] == "clear"]
    metrics = outcome.metrics
    assert abs(metrics["first_word_ms"] - speaks[0]["at_ms"]) <= TOLERANCE_MS
    # Turn 1: "book a cleaning" → "when…"; 2: the barge-in → booked; 3: key 2 → hours; 4: bye → goodbye.
    true_latencies = [speaks[1]["at_ms"] - heard[0]["end_ms"], speaks[2]["at_ms"] - heard[1]["end_ms"]]
    dtmf = next(event for event in events if event["event"] == "dtmf")
    true_latencies += [speaks[3]["at_ms"] - dtmf["at_ms"], speaks[4]["at_ms"] - heard[2]["end_ms"]]
    measured = [metrics[f"turn_latency_ms.{n}"] for n in range(1, 5)]
    assert all(abs(m - t) <= TOLERANCE_MS for m, t in zip(measured, true_latencies, strict=True)), (
        measured,
        true_latencies,
    )
    true_p50 = sorted(true_latencies)[1:3]
    assert abs(metrics["turn_latency_p50_ms"] - sum(true_p50) / 2) <= TOLERANCE_MS
    assert abs(metrics["barge_in_stop_ms"] - (clear["at_ms"] - clear["caller_onset_ms"])) <= TOLERANCE_MS
    assert metrics["talk_over_count"] == 0 and metrics["late_answer_count"] == 0
    assert outcome.artifacts["hung_up_by"] == "agent"  # the clinic hangs up after its goodbye

    # The transcript: both speakers in order, the agent's words from the transcription endpoint.
    speakers = [entry.speaker for entry in outcome.transcript]
    assert speakers == ["agent", "caller", "agent", "caller", "agent", "caller", "agent", "caller", "agent"]
    assert outcome.transcript[4].text.startswith("You're booked for Tuesday at 3pm")
    assert outcome.transcript[2].text.startswith("Sure")  # cut off by the barge-in: its first words only
    assert not outcome.transcript[2].text.endswith("come in?")

    # The recording: stereo 8 kHz, as long as the session, private.
    path = Path(outcome.artifacts["recording"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 8000, 2)
        assert abs(wav.getnframes() / 8000 - metrics["duration_s"]) < 0.05


async def test_without_speech_to_text_content_checks_are_not_evaluable(sim_url: str) -> None:
    test = voice_test(
        ws_url(sim_url),
        [{"wait": "agent", "expect": [{"agent_says": "Bright Smile"}]}, {"hangup": True}],
        [{"agent_says": "Bright Smile"}, {"first_word_ms_below": 1500}],
    )
    outcome = await run_voice(test)
    results = {check.name: check for check in outcome.checks}
    assert results["first_word_ms_below=1500.0"].passed
    for name in (
        "caller[0] agent_says='Bright Smile', regex=False",
        "agent_says='Bright Smile', regex=False",
    ):
        assert not results[name].passed
        assert results[name].message == "not evaluable: no speech-to-text configured"
    assert outcome.artifacts["hung_up_by"] == "caller"
    assert "recording" not in outcome.artifacts  # no recordings folder given
    assert [entry.speaker for entry in outcome.transcript] == ["agent"] and outcome.transcript[0].text == ""


async def test_a_wait_that_times_out_fails_naming_the_step(sim_url: str) -> None:
    test = voice_test(
        ws_url(sim_url, SILENT),
        [{"pause": 0.2}, {"wait": "agent", "timeout_s": 1.5}, {"say": "Hello?"}],
        [{"first_word_ms_below": 1000}],
    )
    outcome = await run_voice(test)
    [wait, first_word] = outcome.checks
    assert wait.name == 'caller[1] wait = "agent"' and not wait.passed
    assert wait.message == "timed out after 1.5 s without hearing the agent"
    assert first_word.message == "the agent never spoke"
    assert "first_word_ms" not in outcome.metrics and 1.5 <= outcome.metrics["duration_s"] < 3


async def test_the_agent_closing_the_socket_is_a_hangup(sim_url: str) -> None:
    test = voice_test(ws_url(sim_url, BUSY), [{"wait": "agent"}, {"say": "Hello?"}])
    outcome = await run_voice(test)
    assert outcome.artifacts["hung_up_by"] == "agent"
    assert outcome.checks[0].message == "the agent hung up before speaking"


async def test_nobody_listening_is_a_transient_error(unused_tcp_port: int) -> None:
    test = voice_test(f"ws://127.0.0.1:{unused_tcp_port}/media", [{"wait": "agent"}])
    with pytest.raises(TransientError) as info:
        await run_voice(test, connect_timeout_s=2)
    assert info.value.kind == "connect" and f"ws://127.0.0.1:{unused_tcp_port}/media" in info.value.message


async def test_a_path_that_is_not_a_websocket_is_an_error_not_retried(sim_url: str) -> None:
    test = voice_test(ws_url(sim_url).replace("/media", "/nowhere"), [{"wait": "agent"}])
    with pytest.raises(RunError) as info:
        await run_voice(test)
    assert not isinstance(info.value, TransientError)
    assert info.value.message.endswith("/nowhere answered HTTP 403 instead of accepting the WebSocket")


def test_the_transcription_endpoint_speaks_openais_shape(sim_url: str) -> None:
    with httpx.Client(base_url=sim_url, timeout=10) as http:
        assert http.post("/v1/audio/transcriptions", json={"file": "x"}).status_code == 400
        bad = http.post("/v1/audio/transcriptions", files={"file": ("a.wav", b"junk")}, data={"model": "m"})
        assert bad.status_code == 400 and "unsupported audio" in bad.json()["error"]["message"]
        silence = b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"
        silence += b"\x02\x00\x10\x00data\x00\x00\x00\x00"
        empty = http.post("/v1/audio/transcriptions", files={"file": ("a.wav", silence)}, data={"model": "m"})
        assert empty.status_code == 200 and empty.json() == {"text": ""}


async def test_play_sends_a_wav_file_and_a_missing_one_is_a_config_error(
    sim_url: str, tmp_path: Path
) -> None:
    # A 16 kHz recording of the caller (made here with espeak-ng, written as any WAV would be).
    speech = await EspeakTts().synthesize("I'd like to book a cleaning", None)
    wav = tmp_path / "caller.wav"
    wav.write_bytes(mono_wav(resample(mulaw.decode(speech), 8000, 16000), 16000))
    caller = [{"wait": "speech"}, {"play": str(wav)}, {"wait": "agent"}]
    checks = [{"agent_says": "when would you like to come in"}, {"barge_in_stop_ms_below": 600}]
    outcome = await run_voice(
        voice_test(ws_url(sim_url), caller, checks), stt="openai", stt_url=sim_url + "/v1"
    )
    assert [check.message for check in outcome.checks if not check.passed] == []
    assert [entry.text for entry in outcome.transcript if entry.speaker == "caller"] == ["[plays caller.wav]"]
    missing = voice_test(ws_url(sim_url), [{"play": str(tmp_path / "nope.wav")}])
    with pytest.raises(RunError) as info:
        await run_voice(missing)
    assert info.value.kind == "config" and info.value.message.startswith("caller[0] play = ")
