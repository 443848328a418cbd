"""Judge checks on phone calls: the call executor runs as always, the judges read its transcript with
each line's timing. The simulator plays both Twilio and the model."""

from __future__ import annotations

import re

import httpx

from callboard.core.executors.registry import build_executors, close_executors
from tests.llm.conftest import scripted_settings
from tests.simulator.conftest import admin, sim_url  # noqa: F401 - the simulator tests' fast simulator
from tests.telephony.support import call_test, job, settings


async def test_a_call_is_judged_on_its_transcript_with_timing(sim_url: str, admin: httpx.Client) -> None:  # noqa: F811
    executors = build_executors(twilio=settings(sim_url), llm=scripted_settings(sim_url))
    checks = [
        {"answered": True},
        {"judge": "The agent told the caller its opening hours"},
        {"judge": 'The agent said "we are closed today"', "weight": 3},
    ]
    try:
        outcome = await executors["call"].execute(job(call_test(checks=checks)))
    finally:
        await close_executors(executors)
    answered, hours, closed_today = outcome.checks
    assert answered.passed and answered.name == "answered=True"
    assert hours.passed and hours.message.startswith("keyword rule (opening hours): the agent said")
    assert not closed_today.passed and closed_today.weight == 3
    assert closed_today.message == "keyword rule (quoted text): missing ['we are closed today']"
    prompt = outcome.artifacts["judge.1.prompt"]
    assert "Each line starts with its time in seconds" in prompt
    assert re.search(r"^\[\d+\.\d\d-\d+\.\d\ds\] agent: ", prompt, re.M), prompt
    assert outcome.metrics["llm_prompt_tokens"] > 0 and outcome.metrics["first_word_ms"] > 0
