"""The conversation executor: templating, session capture, per-turn checks, transcript, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from callboard.core.execution.base import Outcome, TransientError
from callboard.core.executors.conversation import percentile, render_template

RunTest = Callable[[dict[str, Any]], Awaitable[Outcome]]
TURNS = [{"say": "hi"}]


async def test_books_a_cleaning_with_the_demo_agent(run_test: RunTest, agent_url: str) -> None:
    outcome = await run_test(
        {
            "name": "books",
            "kind": "conversation",
            "endpoint": {"url": f"{agent_url}/chat"},
            "turns": [
                {"say": "I'd like to book a cleaning", "expect": [{"contains": "when"}, {"status": 200}]},
                {
                    "say": "Tuesday at 3pm",
                    "expect": [{"regex": "(?i)booked"}, {"jsonpath": "$.session_id", "exists": True}],
                },
            ],
        }
    )
    assert [(check.name, check.passed) for check in outcome.checks] == [
        ("turn 1: contains='when'", True),
        ("turn 1: status=200", True),
        ("turn 2: regex='(?i)booked'", True),
        ("turn 2: jsonpath='$.session_id', exists=True", True),
    ]
    # The booking only succeeds in turn 2 if turn 1's session id was sent back.
    assert len(outcome.artifacts["session_id"]) == 16
    speakers = [entry.speaker for entry in outcome.transcript]
    assert speakers == ["caller", "agent", "caller", "agent"]
    assert outcome.transcript[0].text == "I'd like to book a cleaning"
    assert outcome.transcript[3].text.startswith("You're booked for Tuesday at 3pm")
    starts = [entry.start for entry in outcome.transcript]
    assert starts == sorted(starts) and all(s is not None and s >= 0 for s in starts)
    assert outcome.metrics["turns"] == 2
    assert outcome.metrics["total_latency_ms"] >= outcome.metrics["turn_latency_p90_ms"]
    assert outcome.metrics["turn_latency_p90_ms"] >= outcome.metrics["turn_latency_p50_ms"] > 0


async def test_failed_turn_checks_are_named_by_turn(run_test: RunTest, agent_url: str) -> None:
    outcome = await run_test(
        {
            "name": "wrong",
            "kind": "conversation",
            "endpoint": {"url": f"{agent_url}/chat"},
            "turns": [{"say": "hello", "expect": [{"contains": "goodbye"}, {"latency_ms_below": 60000}]}],
        }
    )
    failed, fast = outcome.checks
    assert failed.name == "turn 1: contains='goodbye'" and not failed.passed
    assert failed.message.startswith("reply") and "Bright Smile" in failed.actual
    assert fast.passed


async def test_templates_the_body_and_sends_the_captured_session(run_test: RunTest, scripted: Any) -> None:
    url, received = scripted
    body = {"input": {"text": "User says: {message}", "raw": "{message}"}, "meta": ["{session}", 7]}
    outcome = await run_test(
        {
            "name": "custom",
            "kind": "conversation",
            "endpoint": {"url": f"{url}/chat", "body": body, "reply": "$.data.text", "session": "$.data.sid"},
            "turns": [{"say": "first", "expect": [{"equals": "reply 1"}]}, {"say": "second"}],
        }
    )
    assert received == [
        {"input": {"text": "User says: first", "raw": "first"}, "meta": ["", 7]},
        {"input": {"text": "User says: second", "raw": "second"}, "meta": ["sid-42", 7]},
    ]
    assert outcome.checks[0].passed and outcome.artifacts == {"session_id": "sid-42"}
    assert [entry.text for entry in outcome.transcript] == ["first", "reply 1", "second", "reply 2"]


async def test_a_missing_reply_is_a_failed_check(run_test: RunTest, agent_url: str) -> None:
    outcome = await run_test(
        {
            "name": "nope",
            "kind": "conversation",
            "endpoint": {"url": f"{agent_url}/chat", "reply": "$.answer"},
            "turns": [{"say": "hello"}],
        }
    )
    [missing] = outcome.checks
    assert not missing.passed and missing.name == "turn 1: reply at $.answer"
    assert "status 200" in missing.message


async def test_a_5xx_turn_is_transient(run_test: RunTest, scripted: Any) -> None:
    with pytest.raises(TransientError):
        await run_test(
            {
                "name": "down",
                "kind": "conversation",
                "endpoint": {"url": f"{scripted[0]}/status/502"},
                "turns": [{"say": "hello"}],
            }
        )


async def test_connection_refused_is_transient(run_test: RunTest, closed_port_url: str) -> None:
    with pytest.raises(TransientError) as raised:
        await run_test(
            {"name": "c", "kind": "conversation", "endpoint": {"url": closed_port_url}, "turns": TURNS}
        )
    assert raised.value.kind == "connection"


def test_render_template_replaces_whole_strings_and_substrings_at_any_depth() -> None:
    template = {"a": "{message}", "b": ["x {session} y", {"c": "{message}/{session}"}], "n": None, "k": 1}
    rendered = render_template(template, {"message": "hi {session}", "session": "s1"})
    assert rendered == {"a": "hi {session}", "b": ["x s1 y", {"c": "hi {session}/s1"}], "n": None, "k": 1}
    assert template["a"] == "{message}"  # the endpoint's template is not changed


def test_percentile() -> None:
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 1.0], 0.9) == pytest.approx(9.1)
