"""Call figures that are right on real Twilio: untrimmed recordings, one transcript per recording looked
up first, finished failures, late prices, separate budgets, the agent's channel detected, AMD options
and late answers — each against the simulator behaving like Twilio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from callboard.core.executors.call import CallExecutor
from callboard.core.simulator import simulator_thread
from callboard.core.telephony import HttpxTwilioClient
from tests.simulator.helpers import SERVICE_SID, SHORT_GREETING
from tests.simulator.helpers import config as sim_config
from tests.telephony.support import (
    CLINIC,
    SLOW,
    TapTransport,
    call_test,
    create_form,
    job,
    settings,
    sim_calls,
)

TRANSCRIPT_FAILS = "+15550100009"
HOURS = [{"pause": 1}, {"say": "Hi, what are your opening hours?"}, {"pause": 6}]
CHECKS = [{"answered": True}, {"agent_says": "open"}, {"first_word_ms_below": 10_000}]
TRANSCRIPTS = "/v2/Transcripts"


@pytest.fixture
async def tapped(sim_url: str, admin: httpx.Client) -> AsyncIterator[tuple[CallExecutor, TapTransport]]:
    tap = TapTransport()
    executor = CallExecutor(settings(sim_url), http_client=HttpxTwilioClient(sim_url, sim_url, transport=tap))
    yield executor, tap
    await executor.aclose()


@pytest.fixture
def own_simulator() -> Iterator[Any]:
    """Start a simulator with its own config; yields a function making a tapped executor for it."""
    stack: list[tuple[Any, CallExecutor]] = []

    def start(
        tap: TapTransport, settings_overrides: dict[str, Any] | None = None, **config: Any
    ) -> CallExecutor:
        context = simulator_thread(sim_config(**config))
        url = context.__enter__()
        http = HttpxTwilioClient(url, url, transport=tap)
        executor = CallExecutor(settings(url, **(settings_overrides or {})), http_client=http)
        stack.append((context, executor))
        return executor

    yield start
    for context, _ in reversed(stack):
        context.__exit__(None, None, None)


def results(outcome: Any) -> dict[str, Any]:
    return {check.name: check for check in outcome.checks}


async def test_slow_receptionist_first_word_is_measured_from_the_answer(
    tapped: tuple[CallExecutor, TapTransport],
) -> None:
    executor, tap = tapped
    test = call_test(SLOW, caller=[{"pause": 6}, {"say": "Hello"}, {"pause": 5}], checks=CHECKS)
    outcome = await executor.execute(job(test))
    # The simulator trims silence by default, as Twilio does: only Trim=do-not-trim keeps the 4 s.
    assert create_form(tap)["Trim"] == "do-not-trim"
    assert outcome.metrics["first_word_ms"] == pytest.approx(4000, abs=50)


async def test_a_transcript_is_looked_up_before_one_is_created(
    tapped: tuple[CallExecutor, TapTransport], admin: httpx.Client
) -> None:
    executor, tap = tapped
    outcome = await executor.execute(job(call_test(CLINIC, caller=HOURS, checks=CHECKS)))
    assert all(check.passed for check in outcome.checks), outcome.checks
    calls = [(method, path) for method, path in tap.requests if path == TRANSCRIPTS]
    assert calls == [("GET", TRANSCRIPTS), ("POST", TRANSCRIPTS)]


async def test_the_transcript_automatic_transcription_made_is_used(own_simulator: Any) -> None:
    tap = TapTransport()
    executor = own_simulator(tap, auto_transcribe_service_sid=SERVICE_SID)
    outcome = await executor.execute(job(call_test(CLINIC, caller=HOURS, checks=CHECKS)))
    await executor.aclose()
    assert all(check.passed for check in outcome.checks), outcome.checks
    assert ("POST", TRANSCRIPTS) not in tap.requests


async def test_a_lost_create_answer_is_followed_by_a_second_look(sim_url: str, admin: httpx.Client) -> None:
    def lose(request: httpx.Request) -> Any:
        return "lost_answer" if request.method == "POST" and request.url.path == TRANSCRIPTS else None

    tap = TapTransport(fault=lose)
    executor = CallExecutor(settings(sim_url), http_client=HttpxTwilioClient(sim_url, sim_url, transport=tap))
    try:
        outcome = await executor.execute(job(call_test(CLINIC, caller=HOURS, checks=CHECKS)))
    finally:
        await executor.aclose()
    assert all(check.passed for check in outcome.checks), outcome.checks
    looks = [method for method, path in tap.requests if path == TRANSCRIPTS]
    assert looks == ["GET", "POST", "GET"]  # the create's answer was lost; the list shows the transcript


async def test_a_failed_transcript_is_final_and_the_call_keeps_everything_else(
    executor: CallExecutor,
) -> None:
    test = call_test(TRANSCRIPT_FAILS, caller=HOURS, checks=[*CHECKS, {"duration_s_below": 60}])
    outcome = await executor.execute(job(test))
    checks = results(outcome)
    assert checks["answered=True"].passed and checks["duration_s_below=60.0"].passed
    says = checks["agent_says='open', regex=False"]
    assert says.passed is False and says.message.startswith("not evaluable: transcript GT")
    assert says.message.endswith("ended error")
    assert outcome.metrics["duration_s"] > 0 and outcome.metrics["price"] > 0
    assert outcome.artifacts["recording_sid"].startswith("RE")


async def test_the_transcript_wait_has_its_own_deadline(own_simulator: Any) -> None:
    executor = own_simulator(TapTransport(), {"transcript_timeout_s": 0.05}, transcript_processing_s=100_000)
    outcome = await executor.execute(job(call_test(CLINIC, caller=HOURS, checks=CHECKS)))
    await executor.aclose()
    says = results(outcome)["agent_says='open', regex=False"]
    assert "no finished transcript within 0.05 s" in says.message
    assert results(outcome)["answered=True"].passed and "recording_sid" in outcome.artifacts


async def test_the_price_twilio_adds_late_is_fetched(executor: CallExecutor) -> None:
    outcome = await executor.execute(
        job(call_test(CLINIC, caller=[{"pause": 2}], checks=[{"answered": True}]))
    )
    # The simulator prices a call 30 simulated seconds after it ends; the call was fetched again.
    assert outcome.metrics["price"] == pytest.approx(0.013)


async def test_a_call_running_to_its_time_limit_still_gets_recording_and_checks(
    tapped: tuple[CallExecutor, TapTransport],
) -> None:
    executor, tap = tapped
    test = call_test(CLINIC, caller=[{"pause": 600}], checks=CHECKS, time_limit_s=12)
    outcome = await executor.execute(job(test))
    assert create_form(tap)["TimeLimit"] == "12"
    assert outcome.metrics["duration_s"] == 12
    assert all(check.passed for check in outcome.checks), outcome.checks
    # The run's own timeout covers the call's limit and the work around it.
    assert test.effective_timeout_s() > 12 + 300


def test_the_tests_timeout_caps_the_call_and_must_exceed_its_limit() -> None:
    assert call_test(timeout_s=90).effective_timeout_s() == 90
    with pytest.raises(ValueError, match="longer than time_limit_s"):
        call_test(timeout_s=60, time_limit_s=60)


@pytest.mark.parametrize("agent_channel", [1, 2])
async def test_the_agents_channel_is_detected_either_way(own_simulator: Any, agent_channel: int) -> None:
    # The settings say the opposite of the simulator for agent_channel=1: detection must win.
    executor = own_simulator(TapTransport(), agent_channel=agent_channel)
    outcome = await executor.execute(job(call_test(CLINIC, caller=HOURS, checks=CHECKS)))
    await executor.aclose()
    assert all(check.passed for check in outcome.checks), outcome.checks
    assert [e.speaker for e in outcome.transcript][:2] == ["agent", "caller"]
    assert outcome.metrics["first_word_ms"] == pytest.approx(800, abs=50)
    assert outcome.artifacts["agent_channel"] == str(agent_channel)
    assert "matched to the caller's script" in outcome.artifacts["channel_mapping"]
    assert float(outcome.artifacts["channel_mapping_confidence"]) >= 0.5


async def test_amd_options_go_with_the_create(tapped: tuple[CallExecutor, TapTransport]) -> None:
    executor, tap = tapped
    amd = {
        "async_amd": True,
        "speech_threshold_ms": 3000,
        "speech_end_threshold_ms": 800,
        "silence_timeout_ms": 4000,
    }
    test = call_test(
        SHORT_GREETING, caller=HOURS, checks=[{"answered_by": "human"}], machine_detection=True, amd=amd
    )
    outcome = await executor.execute(job(test))
    form = create_form(tap)
    assert (form["AsyncAmd"], form["MachineDetectionSpeechThreshold"]) == ("true", "3000")
    assert (form["MachineDetectionSpeechEndThreshold"], form["MachineDetectionSilenceTimeout"]) == (
        "800",
        "4000",
    )
    assert outcome.checks[0].passed, outcome.checks


def test_amd_options_need_machine_detection() -> None:
    with pytest.raises(ValueError, match="machine_detection = true"):
        call_test(amd={"async_amd": True})


async def test_a_slow_agent_answering_after_the_next_line_is_reported_late(
    executor: CallExecutor, admin: httpx.Client
) -> None:
    # The slow receptionist takes 3.5 s; the caller's next line comes 2 s after the first.
    script = [{"pause": 9}, {"say": "I'd like to book an appointment"}, {"pause": 2},
              {"say": "Tuesday at 3pm"}, {"pause": 12}]  # fmt: skip
    test = call_test(SLOW, caller=script, checks=[{"turn_latency_p90_ms_below": 3000}])
    outcome = await executor.execute(job(test))
    assert outcome.metrics["late_answer_count"] >= 1
    assert outcome.metrics["turn_latency_ms.1"] > 3500  # never the small gap after the second line
    assert outcome.checks[0].passed is False
    assert "answered after the caller's next line" in outcome.checks[0].message
    assert "turn 1" in outcome.artifacts["late_answers"]
    assert len(sim_calls(admin)) == 1


async def test_post_call_work_over_its_budget_leaves_a_note_not_an_error(own_simulator: Any) -> None:
    executor = own_simulator(TapTransport(), {"post_call_timeout_s": 0.05}, transcript_processing_s=100_000)
    outcome = await executor.execute(job(call_test(CLINIC, caller=HOURS, checks=CHECKS)))
    await executor.aclose()
    checks = results(outcome)
    assert checks["answered=True"].passed and outcome.metrics["duration_s"] > 0
    assert "did not finish within 0.05 s (twilio.post_call_timeout_s)" in outcome.artifacts["transcript_note"]
    assert checks["agent_says='open', regex=False"].message.startswith(
        "not evaluable: the work after the call"
    )
