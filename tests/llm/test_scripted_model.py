"""Simulated users and judges against the bundled simulator's scripted model and the demo agent."""

from __future__ import annotations

import httpx
import pytest

from callboard.core.execution.base import RunError
from callboard.core.models import dump_test
from callboard.core.simulator.scripted_model import SCRIPTED_MODEL_KEY
from callboard.core.suites import load_suites
from tests.conftest import EXAMPLES
from tests.demo.test_examples_against_demo import retarget
from tests.llm.conftest import RunWith, scripted_settings

BOOKING = {
    "name": "busy-parent-books",
    "kind": "conversation",
    "description": "A parent books a cleaning",
    "simulate": {
        "persona": "A busy parent who answers in few words",
        "goal": "Book a cleaning for Tuesday afternoon",
        "max_turns": 8,
    },
    "checks": [
        {"judge": "The agent confirmed a day and a time for the appointment", "weight": 2},
        {"judge": "The agent never asked for information the caller had already given"},
        {"regex": "(?i)booked"},
    ],
}


async def test_a_simulated_parent_books_with_the_demo_agent(
    run_with: RunWith, sim_url: str, agent_url: str
) -> None:
    outcome = await run_with(scripted_settings(sim_url), {**BOOKING, "endpoint": {"url": agent_url}})
    assert [(entry.speaker, entry.text) for entry in outcome.transcript] == [
        ("caller", "Book a cleaning."),
        ("agent", "Sure — when would you like to come in?"),
        ("caller", "Tuesday 3pm."),
        ("agent", "You're booked for Tuesday at 3pm. We'll send you a reminder the day before."),
    ]
    booked, confirmed, not_repeated = outcome.checks  # judges come after the checks made in the run
    assert confirmed.passed and confirmed.weight == 2
    assert confirmed.message.startswith("keyword rule (day and time confirmed)")
    assert "booked for Tuesday at 3pm" in confirmed.message
    assert not_repeated.passed and booked.passed and booked.name == "conversation: regex='(?i)booked'"
    assert outcome.artifacts["simulate.status"] == "goal_done"
    assert "A busy parent who answers in few words" in outcome.artifacts["simulate.prompt"]
    prompt = outcome.artifacts["judge.1.prompt"]
    assert "Criterion: The agent confirmed a day and a time" in prompt and "agent: Sure — when" in prompt
    assert outcome.metrics["llm_prompt_tokens"] > 0 and outcome.metrics["llm_completion_tokens"] > 0


async def test_a_judge_fails_with_the_models_reason(run_with: RunWith, sim_url: str, agent_url: str) -> None:
    entry = {
        "name": "hours",
        "kind": "conversation",
        "endpoint": {"url": agent_url},
        "simulate": {"persona": "curious", "goal": "Find out whether you are open on Sunday"},
        "checks": [{"judge": "The agent confirmed a day and a time for the appointment"}],
    }
    outcome = await run_with(scripted_settings(sim_url), entry)
    assert outcome.transcript[0].text == "What are your opening hours on Sunday? Are you open on Sunday?"
    assert "closed on Sunday" in outcome.transcript[1].text
    (check,) = outcome.checks
    assert not check.passed and check.actual == "fail"
    assert (
        check.message == "keyword rule (day and time confirmed): no agent line confirms both a day and a time"
    )


async def test_a_goal_the_agent_cannot_meet_ends_with_cannot_do(
    run_with: RunWith, sim_url: str, agent_url: str
) -> None:
    entry = {"name": "pizza", "kind": "conversation", "endpoint": {"url": agent_url},
             "simulate": {"persona": "hungry", "goal": "Order a pizza", "max_turns": 5}}  # fmt: skip
    outcome = await run_with(scripted_settings(sim_url), entry)
    assert len(outcome.transcript) == 2 and outcome.artifacts["simulate.status"] == "cannot_do"
    assert outcome.artifacts["simulate.end"].startswith("the simulated user: cannot_do: ")


async def test_max_turns_ends_the_conversation(run_with: RunWith, sim_url: str, agent_url: str) -> None:
    entry = {"name": "short", "kind": "conversation", "endpoint": {"url": agent_url},
             "simulate": {"persona": "chatty", "goal": "Book a cleaning on Friday at 9am",
                          "max_turns": 1}}  # fmt: skip
    outcome = await run_with(scripted_settings(sim_url), entry)
    assert [entry.speaker for entry in outcome.transcript] == ["caller", "agent"]
    assert outcome.artifacts["simulate.end"] == "max_turns (1) reached"


@pytest.mark.parametrize(
    ("fields", "kind", "text"),
    [
        ({"api_key": "sk-wrong-key-123456"}, "llm_auth", "refused the API key (401)"),
        ({"model": "gpt-nonexistent"}, "llm_model", "model 'gpt-nonexistent' not found"),
    ],
)
async def test_a_wrong_key_or_model_is_a_clear_run_error(
    run_with: RunWith, sim_url: str, agent_url: str, fields: dict[str, str], kind: str, text: str
) -> None:
    settings = scripted_settings(sim_url, **fields)
    with pytest.raises(RunError) as caught:
        await run_with(settings, {**BOOKING, "endpoint": {"url": agent_url}})
    assert caught.value.kind == kind and text in caught.value.message
    assert "sk-wrong-key-123456" not in caught.value.message


def test_the_scripted_model_speaks_openais_shapes(sim_url: str) -> None:
    auth = {"Authorization": f"Bearer {SCRIPTED_MODEL_KEY}"}
    with httpx.Client(base_url=f"{sim_url}/v1", timeout=10) as http:
        assert http.get("/models", headers=auth).json()["data"][0]["id"] == "scripted-clinic"
        refused = http.post("/chat/completions", json={"model": "scripted-clinic", "messages": []})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
        bad = http.post("/chat/completions", headers=auth, json={"model": "scripted-clinic", "messages": 3})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "messages"
        plain = http.post(
            "/chat/completions",
            headers=auth,
            json={"model": "scripted-clinic", "messages": [
                {"role": "system", "content": "Criterion: The agent said \"hello\""},
                {"role": "user", "content": "Transcript:\ncaller: hi\nagent: hello there"}]},
        ).json()  # fmt: skip
    assert plain["object"] == "chat.completion" and plain["usage"]["total_tokens"] > 0
    assert '"verdict": "pass"' in plain["choices"][0]["message"]["content"]


async def test_the_simulated_examples_pass_against_the_demo_agent(
    run_with: RunWith, sim_url: str, agent_url: str
) -> None:
    every = load_suites([EXAMPLES / "simulated.toml"])
    assert len(every) == 4 and all(test.uses_model() for test in every)
    # The voice example needs the simulator's Media Streams agent: tests/voice runs it.
    tests = [test for test in every if test.kind == "conversation"]
    assert len(tests) == 3
    base = agent_url.removesuffix("/chat")
    for test in tests:
        outcome = await run_with(scripted_settings(sim_url), dump_test(retarget(test, base)))
        failed = [check for check in outcome.checks if not check.passed]
        assert outcome.checks and not failed, f"{test.name}: {failed}"
        assert outcome.artifacts["simulate.status"] == "goal_done"
