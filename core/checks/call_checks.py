"""Checks on a phone call: was it answered and by whom, how long it lasted, what the agent said and how
quickly. Also the timing figures (first word, turn latency) that the checks and the metrics share.

An unanswered call (busy, no-answer, failed, canceled) fails ``answered = true`` with the status as its
actual value; every other check fails as not evaluable, with a message saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from callboard.core.checks.common import compiled_regex, not_applicable, result, truncate
from callboard.core.checks.turns import AGENT, analyse_turns, latency_metrics
from callboard.core.models import CheckBase, CheckResult, TranscriptEntry
from callboard.core.models.checks import (
    AgentNeverSaysCheck,
    AgentSaysCheck,
    AnsweredByCheck,
    AnsweredCheck,
    DurationCheck,
    FirstWordCheck,
    TurnLatencyCheck,
)
from callboard.core.models.percentiles import percentile

ANSWERED_STATUS = "completed"
_SNIPPET_MARGIN = 60
_TRANSCRIPT_CHECKS = (AgentSaysCheck, AgentNeverSaysCheck, FirstWordCheck, TurnLatencyCheck)


@dataclass(frozen=True)
class CallObservation:
    """What is known about a finished call.

    ``transcript`` is None when there is none to judge, and ``no_transcript`` then says why (not
    recorded, no Intelligence service configured, transcription failed, ...). Times are seconds from
    the answer, which is where the recording starts.
    """

    status: str
    answered_by: str | None = None
    duration_s: float | None = None
    machine_detection: bool = False
    transcript: Sequence[TranscriptEntry] | None = None
    no_transcript: str = ""

    @property
    def answered(self) -> bool:
        """Twilio marks an answered call "completed" when it ends; every other end means no answer."""
        return self.status == ANSWERED_STATUS


def answered_by_category(value: str | None) -> str | None:
    """Twilio's AnsweredBy as the check's vocabulary: human, machine, fax or unknown (None: not detected).

    machine_start and the machine_end_* values (beep, silence, other) all mean a machine.
    """
    if value is None:
        return None
    if value.startswith("machine"):
        return "machine"
    return value if value in ("human", "fax") else "unknown"


def evaluate_call_checks(checks: Iterable[CheckBase], observation: CallObservation) -> list[CheckResult]:
    """Every check judged against the call."""
    return [evaluate_call_check(check, observation) for check in checks]


def evaluate_call_check(check: CheckBase, call: CallObservation) -> CheckResult:
    """Judge one check against the call; see the module docstring for unanswered calls."""
    if isinstance(check, AnsweredCheck):
        actual: bool | str = True if call.answered else call.status
        passed = call.answered == check.answered
        message = "" if passed else _answered_message(call)
        return result(check, passed=passed, expected=check.answered, actual=actual, message=message)
    if not call.answered:
        return result(
            check,
            passed=False,
            expected=_expected(check),
            actual=None,
            message=f"not evaluable: {_answered_message(call)}",
        )
    if isinstance(check, AnsweredByCheck):
        return _answered_by(check, call)
    if isinstance(check, DurationCheck):
        return _duration(check, call)
    if isinstance(check, _TRANSCRIPT_CHECKS):
        if call.transcript is None:
            return result(
                check,
                passed=False,
                expected=_expected(check),
                actual=None,
                message=f"not evaluable: {call.no_transcript}",
            )
        return _transcript_check(check, call.transcript)
    return not_applicable(check, "a phone call")


def first_word_ms(transcript: Sequence[TranscriptEntry]) -> float | None:
    """When the agent's first sentence started, in ms after the answer; None if the agent never spoke."""
    starts = [entry.start for entry in transcript if entry.speaker == AGENT and entry.start is not None]
    return round(min(starts) * 1000.0, 1) if starts else None


def transcript_metrics(transcript: Sequence[TranscriptEntry]) -> dict[str, float]:
    """first_word_ms, the per-turn latencies (``turn_latency_ms.N``, N the 1-based caller turn), their
    p50/p90/p95, and the late-answer and talk-over counts — those that can be worked out."""
    metrics: dict[str, float] = {}
    first = first_word_ms(transcript)
    if first is not None:
        metrics["first_word_ms"] = first
    taking = analyse_turns(transcript)
    if not taking.turns:
        return metrics
    for turn in taking.turns:
        if turn.latency_ms is not None:
            metrics[f"turn_latency_ms.{turn.index}"] = turn.latency_ms
    metrics.update(latency_metrics(taking.latencies_ms))
    metrics["late_answer_count"] = float(len(taking.late))
    metrics["talk_over_count"] = float(taking.talk_over_count)
    return metrics


def _answered_message(call: CallObservation) -> str:
    return "the call was answered" if call.answered else f"the call was not answered ({call.status})"


def _expected(check: CheckBase) -> object:
    if isinstance(check, AnsweredByCheck):
        return check.answered_by
    if isinstance(check, DurationCheck):
        return _duration_bounds(check)
    if isinstance(check, AgentSaysCheck):
        return _text_expectation("says", check.agent_says, regex=check.regex)
    if isinstance(check, AgentNeverSaysCheck):
        return _text_expectation("never says", check.agent_never_says, regex=check.regex)
    if isinstance(check, FirstWordCheck):
        return f"< {check.first_word_ms_below:g} ms"
    if isinstance(check, TurnLatencyCheck):
        return f"p90 < {check.turn_latency_p90_ms_below:g} ms"
    return None


def _answered_by(check: AnsweredByCheck, call: CallObservation) -> CheckResult:
    category = answered_by_category(call.answered_by)
    if category is None:
        why = (
            "Twilio reported no AnsweredBy"
            if call.machine_detection
            else "answering-machine detection was off: set machine_detection = true on the test"
        )
        return result(check, passed=False, expected=check.answered_by, actual=None, message=why)
    passed = category == check.answered_by
    message = "" if passed else f"answered by {category} ({call.answered_by})"
    return result(check, passed=passed, expected=check.answered_by, actual=category, message=message)


def _duration_bounds(check: DurationCheck) -> str:
    bounds = []
    if check.duration_s_above is not None:
        bounds.append(f"> {check.duration_s_above:g} s")
    if check.duration_s_below is not None:
        bounds.append(f"< {check.duration_s_below:g} s")
    return " and ".join(bounds)


def _duration(check: DurationCheck, call: CallObservation) -> CheckResult:
    expected = _duration_bounds(check)
    if call.duration_s is None:
        return result(
            check, passed=False, expected=expected, actual=None, message="Twilio reported no duration"
        )
    duration = call.duration_s
    too_short = check.duration_s_above is not None and duration <= check.duration_s_above
    too_long = check.duration_s_below is not None and duration >= check.duration_s_below
    message = f"the call lasted {duration:g} s" if too_short or too_long else ""
    return result(
        check, passed=not (too_short or too_long), expected=expected, actual=duration, message=message
    )


@lru_cache(maxsize=1024)
def _literal(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text), re.IGNORECASE)


def _text_expectation(verb: str, text: str, *, regex: bool) -> str:
    return f"{verb} /{text}/" if regex else f"{verb} {text!r}"


def _transcript_check(check: CheckBase, transcript: Sequence[TranscriptEntry]) -> CheckResult:
    if isinstance(check, AgentSaysCheck | AgentNeverSaysCheck):
        return _agent_text(check, transcript)
    if isinstance(check, FirstWordCheck):
        first = first_word_ms(transcript)
        expected = _expected(check)
        if first is None:
            return result(
                check, passed=False, expected=expected, actual=None, message=_no_first_word(transcript)
            )
        passed = first < check.first_word_ms_below
        return result(
            check,
            passed=passed,
            expected=expected,
            actual=first,
            message="" if passed else f"first word after {first:g} ms",
        )
    assert isinstance(check, TurnLatencyCheck)
    taking = analyse_turns(transcript)
    gaps = taking.latencies_ms
    expected = _expected(check)
    if not gaps:
        why = (
            "no timing in the transcript"
            if _untimed(transcript)
            else "no caller turn was followed by an agent reply"
        )
        return result(check, passed=False, expected=expected, actual=None, message=why)
    p90 = percentile(gaps, 0.9)
    passed = p90 < check.turn_latency_p90_ms_below
    notes = [] if passed else [f"p90 turn latency {p90:g} ms over {len(gaps)} turn(s)"]
    if taking.late:
        notes.append(taking.late_note())
    return result(check, passed=passed, expected=expected, actual=p90, message="; ".join(notes))


def _untimed(transcript: Sequence[TranscriptEntry]) -> bool:
    return bool(transcript) and all(entry.start is None for entry in transcript)


def _no_first_word(transcript: Sequence[TranscriptEntry]) -> str:
    """Why there is no first word: the agent said nothing, or the transcript has no times."""
    if any(entry.speaker == AGENT and entry.text.strip() for entry in transcript):
        return "no timing in the transcript"
    return "the agent never spoke"


def _agent_text(
    check: AgentSaysCheck | AgentNeverSaysCheck, transcript: Sequence[TranscriptEntry]
) -> CheckResult:
    says = isinstance(check, AgentSaysCheck)
    wanted = check.agent_says if isinstance(check, AgentSaysCheck) else check.agent_never_says
    expected = _expected(check)
    # One text, so a phrase the transcriber split over two sentences still matches.
    text = " ".join(entry.text.strip() for entry in transcript if entry.speaker == AGENT and entry.text)
    try:
        # contains ignores case; a regex is taken as written (add (?i) to ignore case).
        pattern = compiled_regex(wanted) if check.regex else _literal(wanted)
    except re.error as exc:
        return result(
            check, passed=False, expected=expected, actual=None, message=f"invalid regex /{wanted}/: {exc}"
        )
    match = pattern.search(text)
    if match is None:
        if says:
            message = "the agent never spoke" if not text else "the agent did not say it"
            return result(check, passed=False, expected=expected, actual=truncate(text), message=message)
        return result(check, passed=True, expected=expected, actual=None)
    snippet = text[max(0, match.start() - _SNIPPET_MARGIN) : match.end() + _SNIPPET_MARGIN]
    if says:
        return result(check, passed=True, expected=expected, actual=snippet)
    return result(check, passed=False, expected=expected, actual=snippet, message="the agent said it")
