"""Every HTTP check, passing and failing, against real replies from real servers."""

from __future__ import annotations

from typing import Any

import pytest
from jsonpath_ng.ext import parse as parse_jsonpath

from callboard.core.checks import evaluate_http_check
from callboard.core.checks.jsonpath import first_match
from callboard.core.execution.http_client import HttpClientPool, HttpReply
from callboard.core.models import CheckResult, HttpTest


def check_model(entry: dict[str, Any]) -> Any:
    """One check parsed exactly as a suite would parse it."""
    test = HttpTest(name="t", request={"url": "http://127.0.0.1/"}, checks=[entry])
    return test.checks[0]


async def judge(reply: HttpReply, entry: dict[str, Any], text: str | None = None) -> CheckResult:
    return evaluate_http_check(check_model(entry), reply, text)


@pytest.fixture
async def hours(pool: HttpClientPool, agent_url: str) -> HttpReply:
    return await pool.request("GET", f"{agent_url}/hours", timeout=10)


@pytest.fixture
async def data(pool: HttpClientPool, scripted: tuple[str, Any]) -> HttpReply:
    return await pool.request("GET", f"{scripted[0]}/data", timeout=10)


@pytest.fixture
async def plain(pool: HttpClientPool, scripted: tuple[str, Any]) -> HttpReply:
    return await pool.request("GET", f"{scripted[0]}/text", timeout=10)


async def test_status_check(hours: HttpReply) -> None:
    passed = await judge(hours, {"status": 200})
    assert passed.passed and passed.actual == 200 and passed.name == "status=200"
    assert (await judge(hours, {"status": [200, 204]})).passed
    failed = await judge(hours, {"status": 201, "name": "created", "weight": 2})
    assert not failed.passed
    assert (failed.name, failed.weight, failed.expected, failed.actual) == ("created", 2, 201, 200)
    assert "200" in failed.message


@pytest.mark.parametrize(
    ("entry", "passed"),
    [
        ({"header": "content-type", "contains": "json"}, True),
        ({"header": "CONTENT-TYPE", "contains": "json"}, True),
        ({"header": "content-type", "contains": "xml"}, False),
        ({"header": "content-type", "not_contains": "json"}, False),
        ({"header": "content-type", "not_contains": "xml"}, True),
        ({"header": "content-type", "regex": r"^application/json"}, True),
        ({"header": "content-type", "regex": r"^text/"}, False),
        ({"header": "content-type", "equals": "application/json; charset=utf-8"}, True),
        ({"header": "content-type", "equals": "application/json"}, False),
        ({"header": "content-type", "exists": True}, True),
        ({"header": "content-type", "exists": False}, False),
        ({"header": "x-missing", "exists": False}, True),
        ({"header": "x-missing", "exists": True}, False),
        ({"header": "x-missing", "contains": "a"}, False),
    ],
)
async def test_header_check(hours: HttpReply, entry: dict[str, Any], passed: bool) -> None:
    result = await judge(hours, entry)
    assert result.passed is passed
    assert bool(result.message) is not passed


async def test_header_check_explains_a_missing_header(hours: HttpReply) -> None:
    result = await judge(hours, {"header": "x-missing", "contains": "a"})
    assert "x-missing" in result.message and result.actual is None


@pytest.mark.parametrize(
    ("entry", "passed"),
    [
        ({"jsonpath": "$.count", "equals": 3}, True),
        ({"jsonpath": "$.count", "equals": 4}, False),
        ({"jsonpath": "$.count", "equals": "3"}, False),
        ({"jsonpath": "$.ok", "equals": True}, True),
        ({"jsonpath": "$.ok", "equals": 1}, False),
        ({"jsonpath": "$.items", "equals": ["a", "b"]}, True),
        ({"jsonpath": "$.items[1]", "equals": "b"}, True),
        ({"jsonpath": "$.name", "contains": "board"}, True),
        ({"jsonpath": "$.name", "contains": "BOARD"}, False),
        ({"jsonpath": "$.name", "not_contains": "board"}, False),
        ({"jsonpath": "$.count", "regex": r"^\d$"}, True),
        ({"jsonpath": "$.items", "contains": '"a"'}, True),
        ({"jsonpath": "$.name", "regex": "^x"}, False),
        ({"jsonpath": "$.name", "exists": True}, True),
        ({"jsonpath": "$.name", "exists": False}, False),
        ({"jsonpath": "$.nope", "exists": False}, True),
        ({"jsonpath": "$.nope", "exists": True}, False),
        ({"jsonpath": "$.items[?(@ == 'b')]", "exists": True}, True),
    ],
)
async def test_jsonpath_check(data: HttpReply, entry: dict[str, Any], passed: bool) -> None:
    assert (await judge(data, entry)).passed is passed


async def test_jsonpath_no_match_fails_clearly(data: HttpReply, hours: HttpReply) -> None:
    result = await judge(data, {"jsonpath": "$.missing", "equals": "x"})
    assert not result.passed and "$.missing" in result.message and "nothing" in result.message
    ok = await judge(hours, {"jsonpath": "$.sunday", "equals": "closed"})
    assert ok.passed and ok.actual == "closed"


async def test_jsonpath_on_a_body_that_is_not_json(plain: HttpReply) -> None:
    result = await judge(plain, {"jsonpath": "$.a", "exists": True})
    assert not result.passed and "not JSON" in result.message


@pytest.mark.parametrize(
    ("entry", "passed"),
    [
        ({"contains": "not JSON"}, True),
        ({"contains": "absent"}, False),
        ({"not_contains": "absent"}, True),
        ({"not_contains": "plain"}, False),
        ({"regex": r"^plain\s+text"}, True),
        ({"regex": r"text$"}, False),
        ({"equals": "plain text, not JSON"}, True),
        ({"equals": "plain text"}, False),
        ({"contains": "plain", "not_contains": "xml"}, True),
    ],
)
async def test_body_check(plain: HttpReply, entry: dict[str, Any], passed: bool) -> None:
    assert (await judge(plain, entry)).passed is passed


async def test_body_check_equals_json_value(data: HttpReply) -> None:
    value = {"count": 3, "ok": True, "items": ["a", "b"], "name": "callboard"}
    assert (await judge(data, {"equals": value})).passed
    assert not (await judge(data, {"equals": {"count": 3}})).passed


async def test_body_check_on_replacement_text(plain: HttpReply) -> None:
    result = await judge(plain, {"contains": "booked"}, text="You're booked")
    assert result.passed
    failed = await judge(plain, {"contains": "plain"}, text="You're booked")
    assert not failed.passed and failed.message.startswith("reply")


async def test_actual_is_bounded(pool: HttpClientPool, scripted: tuple[str, Any]) -> None:
    big = await pool.request("GET", f"{scripted[0]}/big", timeout=10)
    result = await judge(big, {"contains": "z"})
    assert not result.passed and len(result.actual) <= 200


async def test_json_schema_check(hours: HttpReply, plain: HttpReply) -> None:
    schema = {"type": "object", "required": ["monday", "sunday"]}
    assert (await judge(hours, {"json_schema": schema})).passed
    failed = await judge(hours, {"json_schema": {"type": "object", "required": ["holidays"]}})
    assert not failed.passed and "holidays" in failed.message
    nested = await judge(hours, {"json_schema": {"properties": {"monday": {"type": "integer"}}}})
    assert not nested.passed and "$.monday" in nested.message
    not_json = await judge(plain, {"json_schema": schema})
    assert not not_json.passed and "not JSON" in not_json.message
    bad_schema = await judge(hours, {"json_schema": {"type": "no-such-type"}})
    assert not bad_schema.passed and "invalid" in bad_schema.message


async def test_latency_check(pool: HttpClientPool, slow_agent_url: str) -> None:
    reply = await pool.request("GET", f"{slow_agent_url}/health", timeout=10)
    slow = await judge(reply, {"latency_ms_below": 1})
    assert not slow.passed and slow.actual >= 1 and "took" in slow.message
    assert (await judge(reply, {"latency_ms_below": 60_000})).passed


async def test_a_check_of_another_kind_fails_as_not_applicable(hours: HttpReply) -> None:
    from callboard.core.models.checks import ExitCodeCheck

    result = evaluate_http_check(ExitCodeCheck(exit_code=0), hours)
    assert not result.passed and "does not apply" in result.message


@pytest.mark.parametrize("path", ["$.reply", "$.a.b", "$['a']", "$.a-b", "$.a.b.c", "$.a[0]", "$.*", "$..b"])
@pytest.mark.parametrize(
    "document",
    [{"reply": "hi"}, {"reply": None}, {"a": {"b": 1}}, {"a": [1, 2]}, {"a": {"b": {"c": False}}}, [1, 2],
     "text", 5, None, {"a-b": 3}, {"a": {"b": None}}, {}, {"a": "b"}, {"a": {"b": [1]}}],
)  # fmt: skip
def test_a_path_of_fields_is_looked_up_as_jsonpath_ng_finds_it(path: str, document: object) -> None:
    # Plain field paths take a direct lookup; it must agree with jsonpath_ng's own, match or none.
    try:
        found = parse_jsonpath(path).find(document)
    except (KeyError, TypeError) as exc:  # jsonpath_ng cannot look this up (an index into an object)
        with pytest.raises(type(exc)):
            first_match(path, document)
        return
    expected = (True, found[0].value) if found else (False, None)
    assert first_match(path, document) == expected
