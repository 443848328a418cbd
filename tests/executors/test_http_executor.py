"""The http executor against real servers: request building, transient errors, implicit checks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

import pytest

from callboard.core.execution.base import Outcome, RunError, TransientError
from callboard.core.execution.http_errors import parse_retry_after

RunTest = Callable[[dict[str, Any]], Awaitable[Outcome]]


def _hello(agent_url: str, *, reply_contains: str) -> dict[str, Any]:
    """Say hello to the demo agent; the reply must hold ``reply_contains``."""
    return {
        "name": "hello",
        "kind": "http",
        "request": {"method": "POST", "url": f"{agent_url}/chat", "json": {"message": "hello"}},
        "checks": [{"status": 200}, {"jsonpath": "$.reply", "contains": reply_contains}],
    }


async def test_checks_metrics_and_artifacts(run_test: RunTest, agent_url: str) -> None:
    outcome = await run_test(_hello(agent_url, reply_contains="help"))
    assert [check.passed for check in outcome.checks] == [True, True]
    assert outcome.metrics["status"] == 200 and outcome.metrics["latency_ms"] > 0
    assert outcome.diagnostics == {}  # a passing run keeps none of the reply
    failing = await run_test(_hello(agent_url, reply_contains="goodbye"))
    assert [check.passed for check in failing.checks] == [True, False]
    assert "Bright Smile" in failing.diagnostics["response_excerpt"]
    assert "content-type: application/json" in failing.diagnostics["response_headers"].lower()


async def test_sends_json_body_form_params_and_headers(run_test: RunTest, scripted: tuple[str, Any]) -> None:
    url = f"{scripted[0]}/echo"
    sent: dict[str, Any] = {"url": url, "method": "PUT", "params": {"q": "1"}, "headers": {"X-Key": "k"}}

    async def echo(**body: Any) -> dict[str, Any]:
        # A check that fails keeps the reply (the echo) in the diagnostics.
        entry = {"name": "echo", "kind": "http", "request": {**sent, **body}, "checks": [{"status": 201}]}
        return json.loads((await run_test(entry)).diagnostics["response_excerpt"])

    as_json = await echo(json={"a": [1, 2]})
    assert (as_json["method"], as_json["query"], as_json["headers"]["X-Key"]) == ("PUT", {"q": "1"}, "k")
    assert as_json["content_type"] == "application/json" and json.loads(as_json["body"]) == {"a": [1, 2]}
    # Compact, non-ASCII as it is (as httpx sends JSON); a Content-Type the test sets wins; a lone
    # surrogate (which JSON suites can hold) still goes, escaped.
    assert (await echo(json={"a": [1, 2.5], "b": "é"}))["body"] == '{"a":[1,2.5],"b":"é"}'
    typed = await echo(json={"a": 1}, headers={"Content-Type": "application/vnd.api+json"})
    assert typed["content_type"] == "application/vnd.api+json" and typed["body"] == '{"a":1}'
    assert json.loads((await echo(json={"s": "lone \ud800"}))["body"]) == {"s": "lone \ud800"}
    as_text = await echo(body="raw text")
    assert as_text["body"] == "raw text"
    as_form = await echo(form={"x": "1", "y": "two words"})
    assert as_form["content_type"] == "application/x-www-form-urlencoded"
    assert as_form["body"] == "x=1&y=two+words"


async def test_no_checks_means_status_below_400(run_test: RunTest, agent_url: str) -> None:
    ok = await run_test({"name": "h", "kind": "http", "request": {"url": f"{agent_url}/health"}})
    assert [(c.name, c.passed) for c in ok.checks] == [("status < 400", True)]
    missing = await run_test({"name": "m", "kind": "http", "request": {"url": f"{agent_url}/nope"}})
    assert [(c.name, c.passed, c.actual) for c in missing.checks] == [("status < 400", False, 404)]


async def test_5xx_is_transient(run_test: RunTest, scripted: tuple[str, Any]) -> None:
    with pytest.raises(TransientError) as raised:
        await run_test({"name": "s", "kind": "http", "request": {"url": f"{scripted[0]}/status/503"}})
    assert raised.value.kind == "server_error" and "503" in raised.value.message
    assert raised.value.retry_after is None


async def test_an_expected_5xx_is_a_result(run_test: RunTest, scripted: tuple[str, Any]) -> None:
    entry = {"name": "s", "kind": "http", "request": {"url": f"{scripted[0]}/status/503"}}
    outcome = await run_test({**entry, "checks": [{"status": [200, 503]}, {"contains": "status 503"}]})
    assert all(check.passed for check in outcome.checks)
    with pytest.raises(TransientError):  # expecting another status does not make 500 a result
        request = {"url": f"{scripted[0]}/status/500"}
        await run_test({**entry, "request": request, "checks": [{"status": 503}]})


async def test_429_honours_retry_after_seconds(run_test: RunTest, scripted: tuple[str, Any]) -> None:
    with pytest.raises(TransientError) as raised:
        await run_test({"name": "r", "kind": "http", "request": {"url": f"{scripted[0]}/retry?after=7"}})
    assert raised.value.kind == "rate_limited" and raised.value.retry_after == 7.0


async def test_429_honours_retry_after_http_date(run_test: RunTest, scripted: tuple[str, Any]) -> None:
    import time
    from urllib.parse import quote

    when = quote(formatdate(time.time() + 60, usegmt=True))
    with pytest.raises(TransientError) as raised:
        await run_test({"name": "r", "kind": "http", "request": {"url": f"{scripted[0]}/retry?after={when}"}})
    assert raised.value.retry_after is not None and 30 < raised.value.retry_after <= 61


async def test_an_expected_429_is_a_result(run_test: RunTest, scripted: tuple[str, Any]) -> None:
    request = {"url": f"{scripted[0]}/retry?after=1"}
    outcome = await run_test({"name": "r", "kind": "http", "request": request, "checks": [{"status": 429}]})
    assert outcome.checks[0].passed


async def test_connection_refused_is_transient(run_test: RunTest, closed_port_url: str) -> None:
    with pytest.raises(TransientError) as raised:
        await run_test({"name": "c", "kind": "http", "request": {"url": closed_port_url}})
    assert raised.value.kind == "connection" and closed_port_url in raised.value.message


async def test_response_excerpt_is_bounded(run_test: RunTest, scripted: tuple[str, Any]) -> None:
    entry = {
        "name": "b",
        "kind": "http",
        "request": {"url": f"{scripted[0]}/big"},
        "checks": [{"status": 201}],
    }
    outcome = await run_test(entry)
    assert not outcome.checks[0].passed and outcome.metrics["status"] == 200
    assert len(outcome.diagnostics["response_excerpt"]) < 4200
    assert "100000 characters" in outcome.diagnostics["response_excerpt"]


async def test_a_test_of_another_kind_is_refused(executors: dict[str, Any], make_job: Any) -> None:
    job = make_job({"name": "c", "kind": "command", "command": "true"})
    with pytest.raises(RunError) as raised:
        await executors["http"].execute(job)
    assert not isinstance(raised.value, TransientError)


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
