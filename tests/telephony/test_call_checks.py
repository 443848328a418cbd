"""Call checks and timing figures on hand-made observations (the simulator tests cover real calls)."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.core.checks.call_checks import (
    CallObservation,
    answered_by_category,
    evaluate_call_check,
    first_word_ms,
    transcript_metrics,
)
from callboard.core.checks.turns import analyse_turns, percentile
from callboard.core.models import TranscriptEntry
from callboard.core.models.checks import (
    AgentNeverSaysCheck,
    AgentSaysCheck,
    AnsweredByCheck,
    AnsweredCheck,
    DurationCheck,
    FirstWordCheck,
    StatusCheck,
    TurnLatencyCheck,
)


def said(speaker: str, text: str, start: float, end: float) -> TranscriptEntry:
    return TranscriptEntry(speaker=speaker, text=text, start=start, end=end)


TRANSCRIPT = [
    said("agent", "Hello, Bright Smile dental.", 0.8, 2.0),
    said("caller", "Hi.", 2.5, 2.8),
    said("caller", "Are you open on Sunday?", 2.8, 4.0),
    said("agent", "We're closed", 5.0, 5.6),
    said("agent", "on Sunday.", 5.6, 6.2),
    said("caller", "Thanks.", 7.0, 7.5),
    said("agent", "Goodbye!", 9.5, 10.0),
    said("caller", "Bye.", 10.5, 11.0),
]


def answered(**fields: Any) -> CallObservation:
    values: dict[str, Any] = {"status": "completed", "duration_s": 11.0, "transcript": TRANSCRIPT}
    values.update(fields)
    return CallObservation(**values)


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("human", "human"),
        ("machine_start", "machine"),
        ("machine_end_beep", "machine"),
        ("machine_end_silence", "machine"),
        ("machine_end_other", "machine"),
        ("fax", "fax"),
        ("unknown", "unknown"),
        (None, None),
    ],
)
def test_answered_by_values_map_to_the_checks_words(value: str | None, category: str | None) -> None:
    assert answered_by_category(value) == category


def gaps(transcript: list[TranscriptEntry]) -> list[float]:
    return analyse_turns(transcript).latencies_ms


def test_turn_gaps_join_a_callers_sentences_and_skip_unanswered_turns() -> None:
    # "Hi." + "Are you open on Sunday?" are one turn (ends 4.0, reply 5.0); "Thanks." waits 2 s;
    # "Bye." gets no reply.
    assert gaps(TRANSCRIPT) == [1000.0, 2000.0]
    assert first_word_ms(TRANSCRIPT) == 800.0


def test_an_agent_talking_over_the_caller_is_not_a_reply() -> None:
    transcript = [
        said("caller", "Hello there", 0.0, 2.0),
        said("agent", "Hi", 1.5, 2.2),
        said("agent", "Yes?", 2.6, 3),
    ]
    taking = analyse_turns(transcript)
    assert taking.latencies_ms == [600.0] and taking.talk_over_count == 1


def test_a_slow_agent_answering_after_the_callers_next_line_is_late_never_quick() -> None:
    # The caller speaks every 4 s; the agent takes 6 s, so its answer to turn 1 comes after turn 2.
    transcript = [
        said("caller", "I'd like to book a cleaning", 0.0, 2.0),
        said("caller", "Tuesday at 3pm", 4.0, 5.5),
        said("agent", "When would you like to come in?", 8.0, 10.0),
        said("agent", "You're booked for Tuesday at 3pm.", 14.0, 16.0),
    ]
    taking = analyse_turns(transcript)
    assert [(t.index, t.latency_ms, t.late) for t in taking.turns] == [(1, 6000.0, True), (2, 8500.0, False)]
    assert "turn 1: the agent answered after the caller's next line (6000 ms)" in taking.late_note()
    metrics = transcript_metrics(transcript)
    assert metrics["late_answer_count"] == 1.0 and metrics["turn_latency_ms.1"] == 6000.0
    assert metrics["turn_latency_p50_ms"] > 6000  # the old merge scored this agent 2500 ms
    check = evaluate_call_check(
        TurnLatencyCheck(turn_latency_p90_ms_below=3000), answered(transcript=transcript)
    )
    assert check.passed is False and "answered after the caller's next line" in check.message


def test_talk_over_counts_agent_speech_starting_while_the_caller_speaks() -> None:
    transcript = [
        said("agent", "Hello, this is Bright Smile Dental.", 0.5, 3.0),
        said("caller", "Hi, are you open?", 1.0, 2.5),
        said("agent", "We're open nine to five.", 3.5, 5.0),
        said("caller", "And on Sunday?", 6.0, 7.0),
        said("agent", "Sorry,", 6.5, 6.8),
        said("agent", "we're closed on Sunday.", 7.6, 9.0),
    ]
    assert analyse_turns(transcript).talk_over_count == 1
    assert transcript_metrics(transcript)["talk_over_count"] == 1.0


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1000.0], 0.9) == 1000.0
    assert percentile([100.0, 200.0, 300.0, 400.0, 1000.0], 0.5) == 300.0
    assert percentile([100.0, 200.0, 300.0, 400.0, 1000.0], 0.9) == 760.0
    with pytest.raises(ValueError):
        percentile([], 0.9)


def test_metrics_leave_out_what_cannot_be_worked_out() -> None:
    assert transcript_metrics(TRANSCRIPT) == {
        "first_word_ms": 800.0,
        "turn_latency_ms.1": 1000.0,
        "turn_latency_ms.2": 2000.0,
        "turn_latency_p50_ms": 1500.0,
        "turn_latency_p90_ms": 1900.0,
        "turn_latency_p95_ms": 1950.0,
        "late_answer_count": 0.0,
        "talk_over_count": 0.0,
    }
    assert transcript_metrics([said("caller", "Hello?", 0.0, 1.0)]) == {
        "late_answer_count": 0.0,
        "talk_over_count": 0.0,
    }
    assert transcript_metrics([]) == {}


@pytest.mark.parametrize(
    ("check", "passed", "actual"),
    [
        (AnsweredCheck(answered=True), True, True),
        (AnsweredCheck(answered=False), False, True),
        (DurationCheck(duration_s_below=12), True, 11.0),
        (DurationCheck(duration_s_below=11), False, 11.0),
        (DurationCheck(duration_s_above=10, duration_s_below=20), True, 11.0),
        (DurationCheck(duration_s_above=11), False, 11.0),
        (AgentSaysCheck(agent_says="closed ON SUNDAY"), True, "We're closed on Sunday."),
        (AgentSaysCheck(agent_says="open 24/7"), False, None),
        (AgentSaysCheck(agent_says=r"Good\w+!", regex=True), True, None),
        (AgentSaysCheck(agent_says=r"GOODBYE", regex=True), False, None),
        (AgentNeverSaysCheck(agent_never_says="sorry"), True, None),
        (AgentNeverSaysCheck(agent_never_says="goodbye"), False, None),
        (AgentNeverSaysCheck(agent_never_says=r"Sun(day)?\b", regex=True), False, None),
        (FirstWordCheck(first_word_ms_below=1000), True, 800.0),
        (FirstWordCheck(first_word_ms_below=800), False, 800.0),
        (TurnLatencyCheck(turn_latency_p90_ms_below=2000), True, 1900.0),
        (TurnLatencyCheck(turn_latency_p90_ms_below=1500), False, 1900.0),
    ],
)
def test_checks_on_an_answered_call(check: Any, passed: bool, actual: object) -> None:
    result = evaluate_call_check(check, answered())
    assert result.passed is passed, result
    if actual is not None:
        assert result.actual == actual or actual in str(result.actual)
    assert bool(result.message) is not passed
    assert result.name == check.label()


def test_text_checks_name_what_the_agent_said() -> None:
    result = evaluate_call_check(AgentNeverSaysCheck(agent_never_says="goodbye"), answered())
    assert result.message == "the agent said it"
    assert "Goodbye!" in result.actual
    missing = evaluate_call_check(AgentSaysCheck(agent_says="open 24/7"), answered())
    assert missing.expected == "says 'open 24/7'"
    assert missing.actual.startswith("Hello, Bright Smile dental.")


def test_a_bad_regex_fails_its_check_only() -> None:
    result = evaluate_call_check(AgentSaysCheck(agent_says="(unclosed", regex=True), answered())
    assert result.passed is False and result.message.startswith("invalid regex /(unclosed/")


def test_a_silent_agent() -> None:
    call = answered(transcript=[said("caller", "Hello?", 0.0, 1.0)])
    assert (
        evaluate_call_check(FirstWordCheck(first_word_ms_below=5000), call).message == "the agent never spoke"
    )
    says = evaluate_call_check(AgentSaysCheck(agent_says="hello"), call)
    assert says.passed is False and says.message == "the agent never spoke"
    assert evaluate_call_check(AgentNeverSaysCheck(agent_never_says="hello"), call).passed is True


def test_an_untimed_transcript_says_so_rather_than_that_the_agent_never_spoke() -> None:
    untimed = [TranscriptEntry(speaker=e.speaker, text=e.text) for e in TRANSCRIPT]
    call = answered(transcript=untimed)
    first = evaluate_call_check(FirstWordCheck(first_word_ms_below=5000), call)
    assert (first.passed, first.message) == (False, "no timing in the transcript")
    turns = evaluate_call_check(TurnLatencyCheck(turn_latency_p90_ms_below=5000), call)
    assert (turns.passed, turns.message) == (False, "no timing in the transcript")


def test_answered_by_needs_detection() -> None:
    check = AnsweredByCheck(answered_by="human")
    assert "set machine_detection = true" in evaluate_call_check(check, answered()).message
    detected_nothing = evaluate_call_check(check, answered(machine_detection=True))
    assert detected_nothing.message == "Twilio reported no AnsweredBy"
    assert evaluate_call_check(check, answered(answered_by="human", machine_detection=True)).passed


def test_duration_unknown_fails() -> None:
    result = evaluate_call_check(DurationCheck(duration_s_below=60), answered(duration_s=None))
    assert result.passed is False and result.message == "Twilio reported no duration"


def test_missing_transcript_makes_transcript_checks_unevaluable() -> None:
    call = answered(transcript=None, no_transcript="no transcript: set twilio.intelligence_service_sid")
    result = evaluate_call_check(TurnLatencyCheck(turn_latency_p90_ms_below=2000), call)
    assert result.passed is False
    assert result.expected == "p90 < 2000 ms"
    assert result.message == "not evaluable: no transcript: set twilio.intelligence_service_sid"
    assert evaluate_call_check(DurationCheck(duration_s_below=60), call).passed is True


def test_unanswered_call() -> None:
    call = CallObservation(status="no-answer")
    result = evaluate_call_check(AnsweredCheck(answered=True), call)
    assert (result.passed, result.expected, result.actual) == (False, True, "no-answer")
    assert evaluate_call_check(AnsweredCheck(answered=False), call).passed is True
    duration = evaluate_call_check(DurationCheck(duration_s_below=60), call)
    assert duration.passed is False
    assert duration.message == "not evaluable: the call was not answered (no-answer)"


def test_checks_of_other_kinds_do_not_apply() -> None:
    result = evaluate_call_check(StatusCheck(status=200), answered())
    assert result.passed is False and "does not apply to a phone call" in result.message
