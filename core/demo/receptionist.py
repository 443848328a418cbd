"""The receptionist's dialogue: deterministic replies driven by keywords and a little per-session state."""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

OPENING_HOURS: dict[str, str] = {
    "monday": "9:00-17:00",
    "tuesday": "9:00-17:00",
    "wednesday": "9:00-17:00",
    "thursday": "9:00-17:00",
    "friday": "9:00-17:00",
    "saturday": "9:00-13:00",
    "sunday": "closed",
}

GREETING = (
    "Hello, this is Bright Smile Dental. How can I help you today? "
    "I can book, reschedule or tell you our opening hours."
)
ASK_WHEN = "Sure — when would you like to come in?"
ASK_NEW_TIME = "No problem — what new day and time works for you?"
ASK_DAY_AND_TIME = "Which day and time would suit you? For example, Tuesday at 3pm."
HOURS = "We're open Monday to Friday 9:00-17:00 and Saturday 9:00-13:00. We're closed on Sunday."
FALLBACK = (
    "Sorry, I didn't quite catch that. I can book an appointment, reschedule one, "
    "or tell you our opening hours."
)

_DAY_AND_TIME = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b.*?\b(\d{1,2}(?::\d{2})?\s*[ap]\.?m\.?)",
    re.IGNORECASE,
)
_TIME_NOISE = re.compile(r"[\s.]")
_GREETING = re.compile(r"\b(hello|hi|hey|good (morning|afternoon|evening))\b", re.IGNORECASE)
_HOURS = re.compile(r"\b(hours?|open|opening|close|closed)\b", re.IGNORECASE)

Pending = Literal["book", "reschedule"]


@dataclass
class Session:
    """What the receptionist remembers about one caller."""

    pending: Pending | None = None
    appointment: str | None = None


class SessionStore:
    """Sessions by id, least recently used evicted first so memory stays bounded."""

    def __init__(self, max_sessions: int = 10_000) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._max_sessions = max_sessions

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, session_id: str | None) -> tuple[str, Session]:
        """The session with this id (created when unknown), or a new session with a fresh id."""
        if not session_id:
            session_id = secrets.token_hex(8)
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = Session()
            if len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(session_id)
        return session_id, session


def reply_to(session: Session, message: str) -> str:
    """The receptionist's answer to one message, updating the session."""
    slot = _DAY_AND_TIME.search(message)
    if session.pending is not None and slot is not None:
        time = _TIME_NOISE.sub("", slot.group(2)).lower()
        when = f"{slot.group(1).capitalize()} at {time}"
        done, session.pending, session.appointment = session.pending, None, when
        if done == "book":
            return f"You're booked for {when}. We'll send you a reminder the day before."
        return f"Done — your appointment is moved to {when}."
    lowered = message.lower()
    # Order matters: "reschedule my appointment" is not a new booking, "are you open" is not a greeting.
    if "reschedule" in lowered or "move my appointment" in lowered:
        session.pending = "reschedule"
        return ASK_NEW_TIME
    if "book" in lowered or "appointment" in lowered or "cleaning" in lowered:
        session.pending = "book"
        return ASK_WHEN
    if _HOURS.search(message):
        return HOURS
    if session.pending is not None:
        return ASK_DAY_AND_TIME
    if _GREETING.search(message):
        return GREETING
    return FALLBACK
