"""The scripted model's brain: a simulated caller of the demo clinic and a keyword-rule judge.

A stand-in for the demo and the tests, deterministic and offline — **not a judge to trust**. The user
follows the goal's intent (book, reschedule, opening hours; anything else it states and gives up on) with
the day and time the goal names, answering in few words when the persona says so. The judge applies
the first rule that fits the criterion (quoted text said; information asked again; a day and time
confirmed; hours given; politeness; else at least half of the criterion's words said by the agent) and
says which rule decided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = re.compile(r"\b(" + "|".join(DAYS) + r")\b", re.IGNORECASE)
_TIME = re.compile(r"\b(\d{1,2}(?::\d{2})?\s*[ap]\.?m\.?)", re.IGNORECASE)
_PART_OF_DAY = {"morning": "10am", "afternoon": "3pm", "evening": "5pm"}
_TERSE = re.compile(r"few words|terse|brief|busy|short|curt", re.IGNORECASE)
_ASKS_WHEN = re.compile(r"\bwhen\b|which day|what (new )?day|what time|day and time", re.IGNORECASE)
_CONFIRMED = re.compile(r"\b(booked|confirmed|moved to|rescheduled)\b", re.IGNORECASE)
_HOURS_GIVEN = re.compile(r"\d{1,2}:\d{2}|\bclosed\b", re.IGNORECASE)
_POLITE = re.compile(r"\b(hello|hi|thank|thanks|please|sorry|happy to|welcome)\b", re.IGNORECASE)
# Only words of four letters or more are weighed, so only those need leaving out.
_STOPWORDS = frozenset(
    {"that", "this", "were", "been", "ever", "never", "agent", "caller", "user", "does", "should", "must"}
    | {"their", "they", "them", "have", "what", "when", "which", "about", "from", "into", "than", "then"}
    | {"there", "while", "with"}
)
MAX_TRIES = 4


@dataclass(frozen=True)
class Goal:
    """What the simulated caller wants, read from the goal's words."""

    intent: str  # book | reschedule | hours | other
    slot: str  # e.g. "Tuesday at 3pm"
    day: str | None
    text: str


def read_goal(goal: str) -> Goal:
    """The intent and the day/time in a goal such as "Book a cleaning for Tuesday afternoon"."""
    lowered = goal.lower()
    if re.search(r"reschedul|move my|change my appointment", lowered):
        intent = "reschedule"
    elif re.search(r"\bhours\b|\bopen\b|opening", lowered):
        intent = "hours"
    elif re.search(r"\bbook|appointment|cleaning|check-?up", lowered):
        intent = "book"
    else:
        intent = "other"
    day_match = _DAY.search(goal)
    day = day_match.group(1).capitalize() if day_match else None
    time_match = _TIME.search(goal)
    part = next((time for word, time in _PART_OF_DAY.items() if word in lowered), None)
    time = re.sub(r"[\s.]", "", time_match.group(1)).lower() if time_match else part or "3pm"
    return Goal(intent, f"{day or 'Tuesday'} at {time}", day, goal)


def user_turn(persona: str, goal_text: str, agent_lines: list[str], own_lines: list[str]) -> dict[str, str]:
    """The caller's next move as the structured answer: message, status, reason."""
    goal = read_goal(goal_text)
    terse = bool(_TERSE.search(persona))
    last = agent_lines[-1] if agent_lines else ""
    if own_lines and _goal_met(goal, last):
        return _done("goal_done", f"the agent answered the goal: {last[:120]}")
    if len(own_lines) >= MAX_TRIES:
        return _done("cannot_do", f"no progress after {len(own_lines)} lines")
    if goal.intent == "other" and own_lines and re.search(r"\bsorry\b|can('|no)t|only", last, re.I):
        return _done("cannot_do", f"the agent cannot help with this: {last[:120]}")
    if own_lines and goal.intent in ("book", "reschedule") and _ASKS_WHEN.search(last):
        slot = goal.slot.replace(" at ", " ") if terse else goal.slot
        return _say(f"{slot}." if terse else f"{slot} would be great.", "the agent asked when")
    return _say(_opening(goal, terse=terse, again=bool(own_lines)), "stating what I want")


def _goal_met(goal: Goal, last: str) -> bool:
    if goal.intent in ("book", "reschedule"):
        return bool(_CONFIRMED.search(last))
    if goal.intent == "hours":
        return bool(_HOURS_GIVEN.search(last))
    return False


def _opening(goal: Goal, *, terse: bool, again: bool) -> str:
    service = "a cleaning" if "cleaning" in goal.text.lower() else "an appointment"
    if goal.intent == "book":
        line = f"Book {service}." if terse else f"Hi, I'd like to book {service}, please."
    elif goal.intent == "reschedule":
        line = "Reschedule my appointment." if terse else "Hello, I need to reschedule my appointment."
    elif goal.intent == "hours":
        day = f" on {goal.day}" if goal.day else ""
        line = f"Open{day}?" if terse and day else f"What are your opening hours{day}? Are you open{day}?"
    else:
        line = goal.text.rstrip(".") + "."
    return ("Sorry — " + line[0].lower() + line[1:]) if again and not terse else line


def _say(message: str, reason: str) -> dict[str, str]:
    return {"message": message, "status": "continue", "reason": reason}


def _done(status: str, reason: str) -> dict[str, str]:
    return {"message": "", "status": status, "reason": reason}


def judge_turn(criterion: str, lines: list[tuple[str, str]]) -> dict[str, str]:
    """The verdict on ``criterion`` over (speaker, text) lines, as the structured answer."""
    agent = [text for speaker, text in lines if speaker == "agent"]
    said = "\n".join(agent)
    lowered = criterion.lower()
    quoted = [a or b for a, b in re.findall(r'"([^"]+)"|\'([^\']+)\'', criterion)]
    if quoted:
        missing = [text for text in quoted if text.lower() not in said.lower()]
        return _verdict(
            passed=not missing,
            rule="quoted text",
            detail=f"missing {missing}" if missing else f"said {quoted}",
        )
    if re.search(r"never asked|already (given|gave|said)|repeat", lowered):
        return _asked_again(lines)
    if re.search(r"confirm|booked|book|appointment", lowered) and re.search(r"day|time|date", lowered):
        for text in agent:
            if _CONFIRMED.search(text) and _DAY.search(text) and _TIME.search(text):
                return _verdict(passed=True, rule="day and time confirmed", detail=f"the agent said {text!r}")
        return _verdict(
            passed=False, rule="day and time confirmed", detail="no agent line confirms both a day and a time"
        )
    if re.search(r"\bhours\b|\bopen\b", lowered):
        hit = next((text for text in agent if _HOURS_GIVEN.search(text)), None)
        reason = f"the agent said {hit!r}" if hit else "no agent line gives opening hours"
        return _verdict(passed=hit is not None, rule="opening hours", detail=reason)
    if re.search(r"polite|greet|friendly|courteous", lowered):
        hit = next((text for text in agent if _POLITE.search(text)), None)
        reason = f"the agent said {hit!r}" if hit else "no polite words from the agent"
        return _verdict(passed=hit is not None, rule="politeness", detail=reason)
    words = sorted({w for w in re.findall(r"[a-z]{4,}", lowered) if w not in _STOPWORDS})
    found = [word for word in words if word in said.lower()]
    passed = bool(words) and len(found) * 2 >= len(words)
    return _verdict(passed=passed, rule="criterion words", detail=f"the agent said {found} of {words}")


def _asked_again(lines: list[tuple[str, str]]) -> dict[str, str]:
    given = False
    for speaker, text in lines:
        if speaker != "agent":
            given = given or bool(_DAY.search(text) and _TIME.search(text))
        elif given and _ASKS_WHEN.search(text):
            return _verdict(
                passed=False,
                rule="information asked again",
                detail=f"asked again after it was given: {text!r}",
            )
    return _verdict(
        passed=True, rule="information asked again", detail="the agent asked for nothing the caller had given"
    )


def _verdict(*, passed: bool, rule: str, detail: str) -> dict[str, str]:
    return {"reason": f"keyword rule ({rule}): {detail}", "verdict": "pass" if passed else "fail"}
