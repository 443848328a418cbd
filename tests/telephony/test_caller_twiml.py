"""The scripted caller's TwiML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from callboard.core.models import CallerStep
from callboard.core.simulator.twiml import Step, parse_twiml
from callboard.core.telephony.caller_twiml import caller_twiml


def steps(*items: dict[str, object]) -> list[CallerStep]:
    return [CallerStep.model_validate(item) for item in items]


def test_every_step_becomes_its_verb() -> None:
    twiml = caller_twiml(
        steps(
            {"pause": 2},
            {"say": "Hi, are you open on Sunday?", "voice": "Polly.Joanna", "language": "en-US"},
            {"pause": 2.5},
            {"play": "https://example.com/hold.mp3"},
            {"digits": "1w#"},
            {"say": "Thanks"},
            {"hangup": True},
        )
    )
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    verbs = [(child.tag, dict(child.attrib), child.text) for child in root]
    assert verbs == [
        ("Pause", {"length": "2"}, None),
        ("Say", {"voice": "Polly.Joanna", "language": "en-US"}, "Hi, are you open on Sunday?"),
        ("Pause", {"length": "3"}, None),  # whole seconds, rounded up
        ("Play", {}, "https://example.com/hold.mp3"),
        ("Play", {"digits": "1w#"}, None),
        ("Say", {}, "Thanks"),
        ("Hangup", {}, None),
    ]


def test_text_is_escaped_and_reads_back_as_written() -> None:
    twiml = caller_twiml(steps({"say": "Tom & Jerry <3"}, {"digits": "12"}))
    assert parse_twiml(twiml) == [Step("say", text="Tom & Jerry <3"), Step("digits", text="12", seconds=0.5)]


def test_no_steps_is_an_empty_response() -> None:
    assert list(ET.fromstring(caller_twiml([]))) == []
