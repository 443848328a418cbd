"""The call executor against the simulator: each way a call can end, and every check passing and failing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from callboard.core.execution.base import RunError
from callboard.core.executors.call import CallExecutor
from callboard.core.models import CheckResult
from tests.simulator.helpers import SHORT_GREETING
from tests.telephony.support import (
    BUSY,
    CLINIC,
    FAILED,
    NO_ANSWER,
    SILENT,
    SLOW,
    VOICEMAIL,
    Recorder,
    call_test,
    job,
    settings,
    sim_calls,
)


def by_name(checks: list[CheckResult]) -> dict[str, CheckResult]:
    return {check.name: check for check in checks}


async def test_clinic_call_passes_every_check(executor: CallExecutor, admin: httpx.Client) -> None:
    checks: list[dict[str, Any]] = [
        {"name": "answered", "answered": True},
        {"name": "says closed", "agent_says": "CLOSED on sunday"},
        {"name": "says hours", "agent_says": r"Saturday \d+:\d+", "regex": True},
        {"name": "never says price", "agent_never_says": "price"},
        {"name": "never says sorry", "agent_never_says": r"(?i)\bsorry\b", "regex": True},
        {"name": "first word", "first_word_ms_below": 3000},
        {"name": "turn latency", "turn_latency_p90_ms_below": 2000},
        {"name": "duration", "duration_s_below": 90, "duration_s_above": 5},
    ]
    recorder = Recorder()
    outcome = await executor.execute(job(call_test(checks=checks), recorder))

    results = by_name(outcome.checks)
    assert all(check.passed for check in outcome.checks), [c for c in outcome.checks if not c.passed]
    assert list(results) == [check["name"] for check in checks]
    assert results["first word"].actual == 800.0  # the clinic greets 0.8 s after answering
    assert results["turn latency"].actual == 1000.0  # and answers each utterance after 1 s
    assert "closed on Sunday" in results["says closed"].actual

    [call] = sim_calls(admin)
    assert recorder.ids == [call["sid"]] == [outcome.artifacts["call_sid"]]
    assert call["status"] == "completed" and outcome.artifacts["call_status"] == "completed"
    assert outcome.artifacts["recording_sid"] == call["recording_sid"]
    assert outcome.artifacts["recording_url"].endswith(f"/Recordings/{call['recording_sid']}")
    assert httpx.get(outcome.artifacts["recording_url"], auth=admin.auth).status_code == 200
    assert outcome.metrics["duration_s"] == call["duration"]
    assert outcome.metrics["price"] > 0
    assert outcome.metrics["first_word_ms"] == 800.0
    assert outcome.metrics["turn_latency_p50_ms"] == outcome.metrics["turn_latency_p90_ms"] == 1000.0

    speakers = [entry.speaker for entry in outcome.transcript]
    assert speakers[0] == "agent" and "caller" in speakers
    said = [entry.text for entry in outcome.transcript if entry.speaker == "caller"]
    assert said == ["Hi, are you open on Sunday?"]
    assert all(entry.start is not None and entry.end is not None for entry in outcome.transcript)


async def test_slow_agent_fails_timing_text_and_duration_checks(executor: CallExecutor) -> None:
    checks: list[dict[str, Any]] = [
        {"name": "not answered", "answered": False},
        {"name": "says 24h", "agent_says": "open 24 hours"},
        {"name": "says regex", "agent_says": r"^Goodbye$", "regex": True},
        {"name": "never says closed", "agent_never_says": "closed"},
        {"name": "never says regex", "agent_never_says": r"Satur\w+", "regex": True},
        {"name": "first word", "first_word_ms_below": 3000},
        {"name": "turn latency", "turn_latency_p90_ms_below": 2000},
        {"name": "short", "duration_s_below": 5},
        {"name": "long", "duration_s_above": 300},
    ]
    # The caller waits for the slow greeting (4 s), so it is not talked over.
    caller = [{"pause": 6}, {"say": "Hi, are you open on Sunday?"}, {"pause": 8}]
    outcome = await executor.execute(job(call_test(SLOW, caller=caller, checks=checks)))

    results = by_name(outcome.checks)
    assert not any(check.passed for check in outcome.checks), [c for c in outcome.checks if c.passed]
    assert results["not answered"].actual is True
    assert results["says 24h"].message == "the agent did not say it"
    assert results["never says closed"].message == "the agent said it"
    assert "closed" in results["never says closed"].actual
    assert results["first word"].actual == 4000.0
    assert results["first word"].message == "first word after 4000 ms"
    assert results["turn latency"].actual == 3500.0
    assert results["short"].expected == "< 5 s" and "the call lasted" in results["short"].message
    assert results["long"].expected == "> 300 s"
    assert outcome.metrics["first_word_ms"] == 4000.0


@pytest.mark.parametrize(("phone", "status"), [(BUSY, "busy"), (NO_ANSWER, "no-answer"), (FAILED, "failed")])
async def test_unanswered_call_fails_answered_and_leaves_the_rest_unevaluated(
    executor: CallExecutor, admin: httpx.Client, phone: str, status: str
) -> None:
    checks: list[dict[str, Any]] = [
        {"name": "answered", "answered": True},
        {"name": "says", "agent_says": "hello"},
        {"name": "duration", "duration_s_below": 60},
        {"name": "by", "answered_by": "human"},
    ]
    outcome = await executor.execute(job(call_test(phone, checks=checks)))

    results = by_name(outcome.checks)
    assert results["answered"].passed is False
    assert results["answered"].expected is True
    assert results["answered"].actual == status
    assert results["answered"].message == f"the call was not answered ({status})"
    for name in ("says", "duration", "by"):
        assert results[name].passed is False
        assert results[name].message == f"not evaluable: the call was not answered ({status})"
    assert outcome.transcript == []
    assert "recording_sid" not in outcome.artifacts
    assert [call["status"] for call in sim_calls(admin)] == [status]


async def test_expecting_no_answer_passes_on_a_busy_line(executor: CallExecutor) -> None:
    outcome = await executor.execute(job(call_test(BUSY, checks=[{"answered": False}])))
    assert [check.passed for check in outcome.checks] == [True]


@pytest.mark.parametrize(
    ("phone", "kind"), [(BUSY, "call_busy"), (NO_ANSWER, "call_no_answer"), (FAILED, "call_failed")]
)
async def test_unanswered_call_without_an_answered_check_is_an_error(
    executor: CallExecutor, phone: str, kind: str
) -> None:
    with pytest.raises(RunError) as caught:
        await executor.execute(job(call_test(phone, checks=[{"agent_says": "hello"}])))
    assert caught.value.kind == kind
    assert "was not answered" in caught.value.message


async def test_voicemail_is_detected_as_a_machine(executor: CallExecutor) -> None:
    checks: list[dict[str, Any]] = [
        {"name": "machine", "answered_by": "machine"},
        {"name": "human", "answered_by": "human"},
    ]
    outcome = await executor.execute(job(call_test(VOICEMAIL, checks=checks, machine_detection=True)))

    results = by_name(outcome.checks)
    assert results["machine"].passed is True and results["machine"].actual == "machine"
    assert results["human"].passed is False
    assert results["human"].message == "answered by machine (machine_end_beep)"
    assert outcome.artifacts["answered_by"] == "machine_end_beep"


@pytest.mark.parametrize(
    ("phone", "category"),
    # The clinic's long greeting makes it a machine to Twilio's AMD; the short-greeting clinic is human.
    [(SHORT_GREETING, "human"), (CLINIC, "machine"), (SILENT, "unknown")],
)
async def test_machine_detection_on_people_and_silence(
    executor: CallExecutor, phone: str, category: str
) -> None:
    outcome = await executor.execute(
        job(call_test(phone, checks=[{"answered_by": category}], machine_detection=True))
    )
    assert [(check.passed, check.actual) for check in outcome.checks] == [(True, category)]


async def test_answered_by_without_machine_detection_says_how_to_turn_it_on(executor: CallExecutor) -> None:
    outcome = await executor.execute(job(call_test(checks=[{"answered_by": "human"}])))
    [check] = outcome.checks
    assert check.passed is False
    assert "set machine_detection = true" in check.message


async def test_without_an_intelligence_service_transcript_checks_fail_clearly(
    sim_url: str, admin: httpx.Client
) -> None:
    executor = CallExecutor(settings(sim_url, intelligence_service_sid=None))
    checks: list[dict[str, Any]] = [
        {"name": "answered", "answered": True},
        {"name": "says", "agent_says": "closed"},
        {"name": "never", "agent_never_says": "price"},
        {"name": "first", "first_word_ms_below": 3000},
        {"name": "turns", "turn_latency_p90_ms_below": 3000},
    ]
    try:
        outcome = await executor.execute(job(call_test(checks=checks)))
    finally:
        await executor.aclose()

    results = by_name(outcome.checks)
    assert results.pop("answered").passed is True
    for check in results.values():
        assert check.passed is False
        assert "set twilio.intelligence_service_sid" in check.message
    assert outcome.transcript == []
    assert "recording_sid" in outcome.artifacts
    assert "twilio.intelligence_service_sid" in outcome.artifacts["transcript_note"]
    assert "first_word_ms" not in outcome.metrics


async def test_unrecorded_call_has_no_recording_or_transcript(executor: CallExecutor) -> None:
    outcome = await executor.execute(job(call_test(record=False, checks=[{"agent_says": "closed"}])))
    [check] = outcome.checks
    assert check.passed is False and "not recorded (record = false)" in check.message
    assert "recording_sid" not in outcome.artifacts
    assert outcome.metrics["duration_s"] > 0


async def test_turn_latency_without_caller_turns_fails(executor: CallExecutor) -> None:
    test = call_test(caller=[{"pause": 5}], checks=[{"turn_latency_p90_ms_below": 5000}])
    outcome = await executor.execute(job(test))
    [check] = outcome.checks
    assert check.passed is False
    assert check.message == "no caller turn was followed by an agent reply"
    assert "turn_latency_p90_ms" not in outcome.metrics


async def test_an_api_key_authenticates_too(sim_url: str, admin: httpx.Client) -> None:
    from tests.simulator.helpers import API_KEY, API_SECRET

    executor = CallExecutor(settings(sim_url, auth_token=None, api_key=API_KEY, api_secret=API_SECRET))
    try:
        outcome = await executor.execute(job(call_test(checks=[{"answered": True}])))
    finally:
        await executor.aclose()
    assert [check.passed for check in outcome.checks] == [True]
