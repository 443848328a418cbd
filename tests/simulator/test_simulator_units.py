"""The simulator's parts on their own: the TwiML reader, the conversation timeline, the CPS bucket."""

from __future__ import annotations

import io
import wave

import pytest

from callboard.core.simulator.amd import AmdOptions
from callboard.core.simulator.config import NumberBehaviour, SimulatorConfig
from callboard.core.simulator.conversation import Conversation, Segment, build_conversation
from callboard.core.simulator.limits import TokenBucket
from callboard.core.simulator.media import wav_bytes
from callboard.core.simulator.personas import VOICEMAIL_GREETING, ClinicAgent, VoicemailAgent
from callboard.core.simulator.twiml import Step, TwimlError, UnsupportedVerb, parse_twiml


def test_twiml_verbs_become_steps() -> None:
    twiml = (
        "<?xml version='1.0' encoding='UTF-8'?><Response><Pause length='2'/>"
        "<Say voice='Polly.Joanna' loop='2'>Hello <prosody rate='slow'>there</prosody></Say>"
        "<Play>https://example.com/a.wav</Play><Play digits='1w2'/>"
        "<Hangup/><Say>never said</Say></Response>"
    )
    assert parse_twiml(twiml) == [
        Step("pause", seconds=2.0),
        Step("say", text="Hello there"),
        Step("say", text="Hello there"),
        Step("play", text="https://example.com/a.wav"),
        Step("digits", text="1w2", seconds=1.0),
        Step("hangup"),
    ]


@pytest.mark.parametrize("verb", ["Connect", "Gather", "Record", "Dial", "Frobnicate"])
def test_verbs_the_simulator_does_not_carry_out_are_refused(verb: str) -> None:
    with pytest.raises(UnsupportedVerb, match=f"<{verb}>"):
        parse_twiml(f"<Response><Say>Hi</Say><{verb}><Say>Inside</Say></{verb}></Response>")


@pytest.mark.parametrize(
    "twiml", ["<Response><Say>x</Response>", "<Gather/>", "<Response><Pause length='soon'/></Response>"]
)
def test_bad_twiml_is_refused(twiml: str) -> None:
    with pytest.raises(TwimlError):
        parse_twiml(twiml)


def talk(steps: list[Step], **behaviour: object) -> Conversation:
    return build_conversation(
        ClinicAgent(), NumberBehaviour.model_validate(behaviour), steps, SimulatorConfig(), AmdOptions()
    )


def test_keys_get_answers_and_do_not_interrupt_the_agent() -> None:
    steps = [Step("pause", seconds=1.0), Step("digits", text="2", seconds=0.25), Step("pause", seconds=20)]
    conversation = talk(steps)
    greeting, keys, hours = conversation.segments
    assert (keys.speaker, keys.text, keys.start) == ("caller", None, 1.0)
    assert greeting.end == pytest.approx(0.8 + 22 / 2.5)  # not cut short by the key press
    assert hours.start == greeting.end and hours.text is not None and "closed on Sunday" in hours.text
    assert conversation.length_s == 21.25


def test_the_caller_hanging_up_cuts_the_agent_off() -> None:
    conversation = talk([Step("pause", seconds=2.0)])
    [greeting] = conversation.segments
    assert (conversation.length_s, greeting.end, greeting.text) == (2.0, 2.0, "Hello, this is")


def test_an_agent_without_barge_in_finishes_its_sentence() -> None:
    conversation = talk([Step("say", text="hello"), Step("pause", seconds=20)], barge_in=False)
    greeting, hello, reply = conversation.segments
    assert greeting.end > hello.start and reply.start == greeting.end


def test_hangup_after_ends_the_call_mid_sentence() -> None:
    conversation = talk([Step("pause", seconds=30)], hangup_after_s=3.0)
    [greeting] = conversation.segments
    assert conversation.length_s == 3.0 and greeting.end == 3.0
    assert greeting.text == "Hello, this is Bright Smile Dental."


def test_token_bucket_refills_in_its_own_time() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2.0, clock=lambda: now[0])
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    now[0] = 0.49
    assert bucket.try_take() is False
    now[0] = 0.5
    assert bucket.try_take() is True


def test_mono_wav_mixes_both_speakers() -> None:
    segments = [Segment("agent", 0.0, 0.5, "hi"), Segment("caller", 0.5, 1.0, "hello")]
    with wave.open(io.BytesIO(wav_bytes(segments, 2.0, 1, 8000))) as audio:
        assert (audio.getnchannels(), audio.getnframes()) == (1, 16000)
        frames = audio.readframes(16000)
    assert any(frames[:16000]) and not any(frames[16000:])  # speech for a second, then silence


def test_a_voicemail_greeting_plays_out_over_the_caller() -> None:
    steps = [Step("say", text="hello is anyone there"), Step("pause", seconds=15)]
    conversation = build_conversation(
        VoicemailAgent(), NumberBehaviour(persona="voicemail"), steps, SimulatorConfig(), AmdOptions()
    )
    greeting, beep, hello = conversation.segments
    assert (greeting.text, hello.text, beep.text) == (VOICEMAIL_GREETING, "hello is anyone there", None)
    assert hello.start == 0.0 and greeting.end == pytest.approx(0.8 + 20 / 2.5)  # not cut short


def test_the_bucket_reserves_tokens_ahead_for_the_queue() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2.0, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    now[0] = 1.0  # two tokens later: the queue has caught up
    assert bucket.reserve() == 0.5
