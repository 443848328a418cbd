"""Twilio's Media Streams messages, byte for byte as Twilio documents them, and the audio plumbing under
them (μ-law, playback with clear and mark, frame VAD segments).

The golden strings follow the examples of https://www.twilio.com/docs/voice/media-streams/websocket-messages
(keys in the same order; sent compact, as Twilio sends them).
"""

from __future__ import annotations

import base64
import json
import math
import warnings

import numpy as np
import pytest

from callboard.core.voice import mulaw
from callboard.core.voice.playback import PlaybackBuffer
from callboard.core.voice.protocol import (
    AgentClear,
    AgentMark,
    AgentMedia,
    TwilioStream,
    new_sid,
    parse_agent_message,
)
from callboard.core.voice.resample import resample
from callboard.core.voice.vad import FrameVad, audible_frames, segments_of

MZ = "MZ" + "a" * 32
CA = "CA" + "b" * 32
AC = "AC" + "c" * 32


def _stream() -> TwilioStream:
    return TwilioStream(stream_sid=MZ, call_sid=CA, account_sid=AC, custom_parameters={"tenant": "demo"})


def test_every_message_from_twilio_byte_for_byte() -> None:
    stream = _stream()
    assert stream.connected() == '{"event":"connected","protocol":"Call","version":"1.0.0"}'
    assert stream.start() == (
        '{"event":"start","sequenceNumber":"1","start":{"accountSid":"' + AC + '","streamSid":"' + MZ + '",'
        '"callSid":"' + CA + '","tracks":["inbound"],'
        '"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},'
        '"customParameters":{"tenant":"demo"}},"streamSid":"' + MZ + '"}'
    )
    assert stream.media(b"\xff\x7f\x00", 0) == (
        '{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0",'
        '"payload":"/38A"},"streamSid":"' + MZ + '"}'
    )
    assert stream.media(b"\x01", 20) == (
        '{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"2","timestamp":"20",'
        '"payload":"AQ=="},"streamSid":"' + MZ + '"}'
    )
    assert stream.dtmf("1") == (
        '{"event":"dtmf","streamSid":"' + MZ + '","sequenceNumber":"4",'
        '"dtmf":{"track":"inbound_track","digit":"1"}}'
    )
    assert stream.mark("my label") == (
        '{"event":"mark","sequenceNumber":"5","streamSid":"' + MZ + '","mark":{"name":"my label"}}'
    )
    assert stream.stop() == (
        '{"event":"stop","sequenceNumber":"6","stop":{"accountSid":"' + AC + '","callSid":"' + CA + '"},'
        '"streamSid":"' + MZ + '"}'
    )


def test_sids_have_twilios_shape_and_custom_parameters_stay_literal() -> None:
    for prefix in ("MZ", "CA", "AC"):
        sid = new_sid(prefix)
        assert len(sid) == 34 and sid.startswith(prefix) and int(sid[2:], 16) >= 0
    stream = TwilioStream(custom_parameters={"note": '[bold]"quoted"[/bold] é'})
    start = json.loads(stream.start())
    assert start["start"]["customParameters"] == {"note": '[bold]"quoted"[/bold] é'}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ('{"event":"media","streamSid":"MZ1","media":{"payload":"/38A"}}', AgentMedia(b"\xff\x7f\x00")),
        ('{"event":"mark","streamSid":"MZ1","mark":{"name":"utterance-1"}}', AgentMark("utterance-1")),
        ('{"event":"clear","streamSid":"MZ1"}', AgentClear()),
        ('{"event":"media","media":{"payload":"not base64!"}}', None),
        ('{"event":"media","media":{}}', None),
        ('{"event":"mark","mark":{"name":3}}', None),
        ('{"event":"transcript"}', None),
        ("[1, 2]", None),
        ("not json", None),
        (b'{"event":"clear"}', AgentClear()),
    ],
)
def test_messages_from_the_agent(text: str | bytes, parsed: object) -> None:
    assert parse_agent_message(text) == parsed


def test_mulaw_matches_g711_and_audioop() -> None:
    # G.711 reference points: 0 → 0xFF, full scale positive → 0x80, full scale negative → 0x00.
    assert mulaw.encode(np.array([0, 32767, -32768], dtype=np.int16)) == b"\xff\x80\x00"
    assert mulaw.decode(b"\xff\x7f\x80\x00").tolist() == [0, 0, 32124, -32124]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    everything = np.arange(-32768, 32768, dtype=np.int16)
    assert mulaw.encode(everything) == audioop.lin2ulaw(everything.tobytes(), 2)
    assert mulaw.decode(bytes(range(256))).tobytes() == audioop.ulaw2lin(bytes(range(256)), 2)
    assert mulaw.silence(0.06) == b"\xff" * 480 and len(mulaw.silence(0.8)) == 40 * 160  # whole frames
    assert len(mulaw.SILENCE_FRAME) == 160


def test_playback_plays_in_frames_echoes_marks_and_clears() -> None:
    buffer = PlaybackBuffer()
    buffer.append(b"\x01" * 200)
    buffer.add_mark("a")
    buffer.append(b"\x02" * 100)
    buffer.add_mark("b")
    first = buffer.play_frame()
    assert first.audio == b"\x01" * 160 and first.from_agent and first.marks == ()
    second = buffer.play_frame()
    assert second.audio == b"\x01" * 40 + b"\x02" * 100 + b"\xff" * 20
    assert second.marks == ("a", "b")
    idle = buffer.play_frame()
    assert idle.audio == mulaw.SILENCE_FRAME and not idle.from_agent
    buffer.append(b"\x03" * 1000)
    buffer.add_mark("c")
    assert buffer.clear() == ("c",)
    assert buffer.buffered_bytes == 0 and not buffer.play_frame().from_agent


def test_resample_keeps_a_tone_and_drops_what_cannot_be_carried() -> None:
    rate = 24_000
    t = np.arange(rate) / rate
    tone = (10_000 * np.sin(2 * math.pi * 440 * t)).astype(np.int16)
    out = resample(tone, rate, 8000)
    assert out.size == 8000
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1
    alias = (10_000 * np.sin(2 * math.pi * 7000 * t)).astype(np.int16)
    assert np.abs(resample(alias, rate, 8000)[50:-50]).max() < 1000  # the edges of the filter aside


def test_frame_vad_and_segments() -> None:
    vad = FrameVad(2)
    assert vad.is_speech(mulaw.SILENCE_FRAME) is False
    flags = [False] * 5 + [True] * 2 + [False] * 3 + [True] * 10 + [False, True] + [False] * 20 + [True] * 4
    [first, second] = segments_of(flags, onset_frames=3, gap_frames=15)
    assert (first.start, first.end) == (10, 22)  # the 2-frame click is not speech; the 1-frame gap is inside
    assert (second.start, second.end) == (42, 46)
    clip = mulaw.silence(0.1) + mulaw.encode(np.full(480, 5000, dtype=np.int16)) + mulaw.silence(0.1)
    assert audible_frames(clip) == [False] * 5 + [True] * 3 + [False] * 5


def test_base64_payload_round_trip() -> None:
    payload = bytes(range(160))
    message = json.loads(_stream().media(payload, 40))
    assert base64.b64decode(message["media"]["payload"]) == payload
