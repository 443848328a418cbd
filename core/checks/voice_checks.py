"""Checks on a voice test (a conversation over the agent's Media Streams socket).

Timing checks read the figures measured from the audio (``core.voice.timeline``); what the agent said is
judged like a call's transcript (``call_checks``), and is "not evaluable" without speech-to-text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from callboard.core.checks.call_checks import ANSWERED_STATUS, CallObservation, evaluate_call_check
from callboard.core.checks.common import not_applicable, result
from callboard.core.models import CheckBase, CheckResult, TranscriptEntry
from callboard.core.models.checks import (
    AgentNeverSaysCheck,
    AgentSaysCheck,
    BargeInStopCheck,
    DurationCheck,
    FirstWordCheck,
    LateAnswerCheck,
    TalkOverCheck,
    TurnLatencyCheck,
)
from callboard.core.models.percentiles import percentile


@dataclass(frozen=True)
class VoiceObservation:
    """What a voice session gave: figures from the audio, and the agent's words when transcribed.

    ``transcript`` is None when there is no transcript to judge; ``no_transcript`` says why.
    """

    duration_s: float
    first_word_ms: float | None = None
    turn_latencies_ms: Sequence[float] = field(default_factory=list)
    barge_in_stops_ms: Sequence[float] = field(default_factory=list)
    talk_overs: int = 0
    late_answers: int = 0
    transcript: Sequence[TranscriptEntry] | None = None
    no_transcript: str = ""


def evaluate_voice_checks(checks: Iterable[CheckBase], session: VoiceObservation) -> list[CheckResult]:
    """Every check judged against the session."""
    return [evaluate_voice_check(check, session) for check in checks]


def evaluate_voice_check(check: CheckBase, session: VoiceObservation, prefix: str = "") -> CheckResult:
    """Judge one check; ``prefix`` names where it came from (a caller step's ``expect``)."""
    if isinstance(check, AgentSaysCheck | AgentNeverSaysCheck | DurationCheck):
        call = CallObservation(
            status=ANSWERED_STATUS,
            duration_s=session.duration_s,
            transcript=session.transcript,
            no_transcript=session.no_transcript,
        )
        judged = evaluate_call_check(check, call)
        return judged.model_copy(update={"name": prefix + judged.name})
    if isinstance(check, FirstWordCheck):
        expected = f"< {check.first_word_ms_below:g} ms"
        if session.first_word_ms is None:
            return result(
                check,
                passed=False,
                expected=expected,
                actual=None,
                message="the agent never spoke",
                prefix=prefix,
            )
        passed = session.first_word_ms < check.first_word_ms_below
        message = "" if passed else f"first word after {session.first_word_ms:g} ms"
        return result(
            check,
            passed=passed,
            expected=expected,
            actual=session.first_word_ms,
            message=message,
            prefix=prefix,
        )
    if isinstance(check, TurnLatencyCheck):
        expected = f"p90 < {check.turn_latency_p90_ms_below:g} ms"
        if not session.turn_latencies_ms:
            return result(
                check,
                passed=False,
                expected=expected,
                actual=None,
                message="no caller turn was answered in time",
                prefix=prefix,
            )
        p90 = percentile(session.turn_latencies_ms, 0.9)
        passed = p90 < check.turn_latency_p90_ms_below
        message = (
            "" if passed else f"p90 turn latency {p90:g} ms over {len(session.turn_latencies_ms)} turn(s)"
        )
        return result(check, passed=passed, expected=expected, actual=p90, message=message, prefix=prefix)
    if isinstance(check, BargeInStopCheck):
        expected = f"< {check.barge_in_stop_ms_below:g} ms"
        if not session.barge_in_stops_ms:
            message = "not evaluable: the caller never spoke while the agent was audible"
            return result(check, passed=False, expected=expected, actual=None, message=message, prefix=prefix)
        worst = max(session.barge_in_stops_ms)
        passed = worst < check.barge_in_stop_ms_below
        message = "" if passed else f"the agent kept talking {worst:g} ms after the caller cut in"
        return result(check, passed=passed, expected=expected, actual=worst, message=message, prefix=prefix)
    if isinstance(check, TalkOverCheck):
        passed = session.talk_overs <= check.talk_over_count_max
        message = "" if passed else f"the agent started over the caller {session.talk_overs} time(s)"
        return result(
            check,
            passed=passed,
            expected=f"<= {check.talk_over_count_max}",
            actual=session.talk_overs,
            message=message,
            prefix=prefix,
        )
    if isinstance(check, LateAnswerCheck):
        passed = session.late_answers <= check.late_answer_count_max
        message = "" if passed else f"{session.late_answers} answer(s) came after the caller moved on"
        return result(
            check,
            passed=passed,
            expected=f"<= {check.late_answer_count_max}",
            actual=session.late_answers,
            message=message,
            prefix=prefix,
        )
    return not_applicable(check, "a voice test", prefix)


def voice_metrics(session: VoiceObservation) -> dict[str, float]:
    """The run's metrics, named as every kind names them."""
    metrics: dict[str, float] = {
        "duration_s": session.duration_s,
        "talk_over_count": float(session.talk_overs),
        "late_answer_count": float(session.late_answers),
    }
    if session.first_word_ms is not None:
        metrics["first_word_ms"] = session.first_word_ms
    latencies = session.turn_latencies_ms
    for number, latency in enumerate(latencies, start=1):
        metrics[f"turn_latency_ms.{number}"] = latency
    if latencies:
        metrics["turn_latency_p50_ms"] = percentile(latencies, 0.5)
        metrics["turn_latency_p90_ms"] = percentile(latencies, 0.9)
        metrics["turn_latency_p95_ms"] = percentile(latencies, 0.95)
    if session.barge_in_stops_ms:
        metrics["barge_in_stop_ms"] = max(session.barge_in_stops_ms)
    return metrics
