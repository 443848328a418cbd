"""Telling the agent's channel from the caller's by matching the caller's script, fuzzily."""

from __future__ import annotations

from callboard.core.telephony.channels import detect_channels
from callboard.core.telephony.voice import Sentence

SAID = ["I'd like to book a cleaning", "Tuesday at 3pm"]


def sentences(caller: int, agent: int) -> list[Sentence]:
    return [
        Sentence(agent, "Hello, this is Bright Smile Dental. How can I help?", 0.8, 3.0),
        Sentence(caller, "i would like to book a cleaning.", 3.2, 5.0),
        Sentence(agent, "When would you like to come in?", 6.0, 7.5),
        Sentence(caller, "Tuesday at 3 p.m.", 9.0, 10.0),
        Sentence(agent, "You're booked for Tuesday at 3pm.", 11.0, 12.5),
    ]


def test_the_caller_is_the_channel_that_said_the_script_whichever_it_is() -> None:
    for caller, agent in ((1, 2), (2, 1)):
        mapping = detect_channels(sentences(caller, agent), SAID, agent_channel=2, caller_channel=1)
        assert (mapping.caller, mapping.agent, mapping.detected) == (caller, agent, True)
        assert mapping.confidence >= 0.5


def test_the_settings_are_used_only_when_no_channel_matches() -> None:
    unrelated = ["Please transfer me to billing"]
    mapping = detect_channels(sentences(1, 2), unrelated, agent_channel=2, caller_channel=1)
    assert (mapping.agent, mapping.caller, mapping.detected, mapping.confidence) == (2, 1, False, 0.0)
    assert "from the settings" in mapping.describe()
    assert not detect_channels(sentences(1, 2), [], agent_channel=2, caller_channel=1).detected
    mono = [Sentence(1, "hello", 0.0, 1.0)]
    assert not detect_channels(mono, SAID, agent_channel=2, caller_channel=1).detected
