"""The same features against a minimal OpenAI-compatible server of the tests' own: what reaches the model,
the Bearer key, structured-output fallback, transient errors, malformed output and judge samples."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from callboard.core.execution.base import RunError
from tests.llm.conftest import RunWith, stub_settings
from tests.llm.stub_model import STUB_KEY, StubModel

PERSONA = "A retired teacher who spells everything out"
GOAL = "Book a cleaning for Tuesday at 3pm"
CRITERION = "The agent confirmed the booking"


def simulated(agent_url: str, **checks: Any) -> dict[str, Any]:
    return {
        "name": "sim",
        "kind": "conversation",
        "description": "books a cleaning",
        "endpoint": {"url": agent_url},
        "simulate": {"persona": PERSONA, "goal": GOAL, "max_turns": 6},
        "checks": [{"judge": CRITERION, **checks}],
    }


async def test_persona_goal_criterion_and_replies_reach_the_model(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    stub.user_lines = ["I'd like to book a cleaning", "Tuesday at 3pm"]
    outcome = await run_with(stub_settings(stub), simulated(agent_url))
    assert [entry.text for entry in outcome.transcript if entry.speaker == "caller"] == stub_lines()
    assert all(r["headers"]["Authorization"] == f"Bearer {STUB_KEY}" for r in stub.requests)
    users = stub.bodies("simulated_user_line")
    assert len(users) == 3  # two lines, then "goal_done"
    for body in users:
        assert PERSONA in body["messages"][0]["content"] and GOAL in body["messages"][0]["content"]
        assert body["model"] == "stub-model" and body["seed"] == 7
    # The agent's replies reach the simulated user as "user" messages, its own lines as "assistant".
    last = users[-1]["messages"]
    assert {"role": "user", "content": "Sure — when would you like to come in?"} in last
    assert {"role": "assistant", "content": "Tuesday at 3pm"} in last
    (judge,) = stub.bodies("judge_verdict")
    assert judge["temperature"] == 0 and judge["seed"] == 7
    assert (
        CRITERION in judge["messages"][0]["content"] and "books a cleaning" in judge["messages"][0]["content"]
    )
    assert "agent: You're booked for Tuesday at 3pm" in judge["messages"][1]["content"]
    (check,) = outcome.checks
    assert check.passed and check.message == "stub says pass" and check.actual == "pass"
    # Four completions at 100 + 10 tokens each.
    assert outcome.metrics["llm_prompt_tokens"] == 400 and outcome.metrics["llm_completion_tokens"] == 40


def stub_lines() -> list[str]:
    return ["I'd like to book a cleaning", "Tuesday at 3pm"]


async def test_structured_output_falls_back_to_a_tool_then_to_plain_json(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    stub.refuse_modes = {"json_schema", "tool"}
    stub.user_lines = ["Hello"]
    outcome = await run_with(stub_settings(stub), simulated(agent_url))
    modes = ["json_schema" if "response_format" in r["body"] else "tool" if "tools" in r["body"] else "json"
             for r in stub.requests]  # fmt: skip
    # The first request walks down the modes; the client then stays on the one that worked.
    assert modes == ["json_schema", "tool", "json", "json", "json"]
    assert "Answer with one JSON object" in stub.requests[-1]["body"]["messages"][0]["content"]
    assert outcome.transcript[0].text == "Hello" and outcome.checks[0].passed


async def test_a_tool_call_carries_the_answer_when_json_schema_is_refused(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    stub.refuse_modes = {"json_schema"}
    stub.user_lines = ["Hi"]
    stub.verdicts = ["fail"]
    outcome = await run_with(stub_settings(stub), simulated(agent_url))
    assert "tools" in stub.requests[-1]["body"]
    assert stub.requests[-1]["body"]["tool_choice"]["function"]["name"] == "judge_verdict"
    assert not outcome.checks[0].passed and outcome.checks[0].message == "stub says fail"


async def test_rate_limits_and_server_errors_are_retried_never_failed(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    stub.user_lines = ["Hi"]
    stub.faults = [(429, '{"error": {"message": "slow down"}}', {"Retry-After": "0"}),
                   (503, "overloaded", {}), (429, "", {"Retry-After": "0"})]  # fmt: skip
    outcome = await run_with(stub_settings(stub), simulated(agent_url))
    # Three faults, then the line, goal_done and the verdict.
    assert len(stub.requests) == 3 + 3 and outcome.checks[0].passed


async def test_a_server_that_keeps_failing_is_a_transient_error(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    stub.faults = [(500, "boom", {})] * 10
    with pytest.raises(RunError) as caught:
        await run_with(stub_settings(stub), simulated(agent_url))
    assert caught.value.kind == "llm_unavailable" and "server error 500: boom" in caught.value.message
    assert len(stub.requests) == 4


async def test_malformed_output_is_asked_again_once_then_not_evaluable(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    stub.user_lines = ["Hi"]
    stub.verdicts = ["I think it went fine", '{"verdict": "maybe", "reason": "?"}']
    outcome = await run_with(stub_settings(stub), simulated(agent_url))
    (check,) = outcome.checks
    assert not check.passed and check.actual == "not evaluable"
    assert check.message.startswith("not evaluable: the judge's answer was malformed twice: verdict 'maybe'")
    stub.requests.clear()
    stub.user_lines = ["Hi"]
    stub.verdicts = ["not json", "pass"]
    outcome = await run_with(stub_settings(stub), simulated(agent_url))
    assert outcome.checks[0].passed and len(stub.bodies("judge_verdict")) == 2


async def test_judge_samples_take_the_majority_and_record_the_agreement(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    stub.user_lines = ["Hi"]
    stub.verdicts = ["pass", "fail", "pass"]
    outcome = await run_with(stub_settings(stub), simulated(agent_url, judge_samples=3))
    (check,) = outcome.checks
    assert check.passed and check.message == "2 of 3 samples passed: stub says pass"
    assert outcome.metrics["judge_agreement.1"] == pytest.approx(0.6667)
    assert [body["seed"] for body in stub.bodies("judge_verdict")] == [7, 8, 9]
    stub.user_lines = ["Hi"]
    stub.verdicts = ["pass", "fail"]
    outcome = await run_with(stub_settings(stub, judge_samples=2), simulated(agent_url))
    assert not outcome.checks[0].passed and "(a tie fails)" in outcome.checks[0].message


async def test_a_test_may_name_another_model(run_with: RunWith, stub: StubModel, agent_url: str) -> None:
    stub.user_lines = ["Hi"]
    entry = simulated(agent_url, model="judge-model")
    entry["simulate"]["model"] = "user-model"
    await run_with(stub_settings(stub), entry)
    assert {body["model"] for body in stub.bodies("simulated_user_line")} == {"user-model"}
    assert {body["model"] for body in stub.bodies("judge_verdict")} == {"judge-model"}


async def test_scripted_turns_can_be_judged_too(run_with: RunWith, stub: StubModel, agent_url: str) -> None:
    entry = {"name": "scripted", "kind": "conversation", "endpoint": {"url": agent_url},
             "turns": [{"say": "What are your hours?"}],
             "checks": [{"judge": "The agent gave its hours"}]}  # fmt: skip
    outcome = await run_with(stub_settings(stub), entry)
    assert outcome.checks[0].passed and "caller: What are your hours?" in outcome.artifacts["judge.1.prompt"]
    assert len(stub.requests) == 1


async def test_no_key_sends_no_authorization_header(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    with pytest.raises(RunError) as caught:
        await run_with(stub_settings(stub, api_key=None), simulated(agent_url))
    assert caught.value.kind == "llm_auth" and "Authorization" not in stub.requests[0]["headers"]


async def test_the_agent_can_end_the_conversation(run_with: RunWith, stub: StubModel) -> None:
    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"reply": f"Goodbye after {body['message']!r}", "done": True})

    app = web.Application()
    app.router.add_post("/chat", chat)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        stub.user_lines = ["first", "second", "third"]
        entry = simulated(str(server.make_url("/chat")))
        entry["endpoint"]["end"] = "$.done"
        outcome = await run_with(stub_settings(stub), entry)
    finally:
        await server.close()
    assert [entry.text for entry in outcome.transcript] == ["first", "Goodbye after 'first'"]
    assert outcome.artifacts["simulate.status"] == "agent_ended"


async def test_nothing_said_leaves_the_judge_not_evaluable(
    run_with: RunWith, stub: StubModel, agent_url: str
) -> None:
    outcome = await run_with(stub_settings(stub), simulated(agent_url))  # the user is done at once
    (check,) = outcome.checks
    assert not check.passed and check.message == "not evaluable: there is no transcript"
    assert stub.bodies("judge_verdict") == []
