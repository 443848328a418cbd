"""Who answers: the demo clinic's receptionist, a voicemail box, or dead air.

The clinic reuses the demo HTTP agent's dialogue (``callboard.core.demo.receptionist``), so a phone test
and a chat test of the same question get the same deterministic answer: "appointment"/"book" → asks when,
"Tuesday at 3pm" → booked, "hours"/"open" → opening hours (closed on Sunday), "bye" → goodbye and hangs up.
Keys: 1 → booking, 2 → opening hours, anything else → the "didn't catch that" fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from callboard.core.demo.receptionist import GREETING, Session, reply_to
from callboard.core.simulator.config import Persona

GOODBYE = "Thanks for calling Bright Smile Dental. Goodbye!"
VOICEMAIL_GREETING = (
    "Hi, you've reached Bright Smile Dental. We can't take your call right now. "
    "Please leave a message after the beep."
)
_GOODBYE = re.compile(r"\b(bye|goodbye|that's all|that is all)\b", re.IGNORECASE)
_KEY_MEANINGS = {"1": "I'd like to book an appointment", "2": "What are your opening hours?"}


@dataclass(frozen=True)
class Reply:
    """What the agent says back, and whether it hangs up once it has said it."""

    text: str
    hang_up: bool = False


class Agent(Protocol):
    """The answering side of a call."""

    machine: bool
    beep: bool

    def greeting(self) -> str | None:
        """What the agent says on answering (None: silence)."""
        ...

    def hear(self, text: str) -> Reply | None:
        """The agent's answer to one caller utterance (None: no answer)."""
        ...

    def keys(self, digits: str) -> Reply | None:
        """The agent's answer to DTMF digits (None: no answer)."""
        ...


class ClinicAgent:
    """The demo clinic's receptionist, with one session for the length of the call."""

    machine = False
    beep = False

    def __init__(self, greeting: str = GREETING) -> None:
        self._session = Session()
        self._greeting = greeting

    def greeting(self) -> str | None:
        """The receptionist's greeting."""
        return self._greeting

    def hear(self, text: str) -> Reply | None:
        """A keyword-driven answer; a goodbye ends the call."""
        if _GOODBYE.search(text):
            return Reply(GOODBYE, hang_up=True)
        return Reply(reply_to(self._session, text))

    def keys(self, digits: str) -> Reply | None:
        """The phone menu: the first key pressed picks the topic."""
        meaning = _KEY_MEANINGS.get(digits.strip("wW")[:1])
        return self.hear(meaning) if meaning else Reply(reply_to(self._session, "#"))


class VoicemailAgent:
    """A voicemail box: a greeting, a beep, then it only listens."""

    machine = True
    beep = True

    def greeting(self) -> str | None:
        """The outgoing message."""
        return VOICEMAIL_GREETING

    def hear(self, text: str) -> Reply | None:
        """Machines don't answer."""
        return None

    def keys(self, digits: str) -> Reply | None:
        """Machines don't answer."""
        return None


class SilentAgent(VoicemailAgent):
    """Picks up and says nothing at all (AMD reports ``unknown``)."""

    machine = False
    beep = False

    def greeting(self) -> str | None:
        """Silence."""
        return None


def make_agent(persona: Persona, greeting: str | None = None) -> Agent:
    """A fresh agent for one call; ``greeting`` replaces the clinic's usual one."""
    if persona == "voicemail":
        return VoicemailAgent()
    if persona == "silent":
        return SilentAgent()
    return ClinicAgent(greeting or GREETING)
