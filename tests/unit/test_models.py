"""Domain model validation: nonsense is refused early, naming the field."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from callboard.core.models import (
    BatchCounts,
    CallTest,
    CheckResult,
    RunStatus,
    dump_test,
    parse_test,
    score,
)
from callboard.core.models.checks import Check


def _errors(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        parse_test(data)
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in info.value.errors()]


def test_http_test_parses_checks_by_primary_key() -> None:
    test = parse_test(
        {
            "name": "t",
            "kind": "http",
            "request": {"method": "post", "url": "http://localhost:8700/chat", "json": {"m": 1}},
            "checks": [
                {"status": 200},
                {"jsonpath": "$.reply", "contains": "help"},
                {"latency_ms_below": 800},
            ],
        }
    )
    assert test.request.method == "POST"
    assert [type(check).__name__ for check in test.checks] == ["StatusCheck", "JsonPathCheck", "LatencyCheck"]
    assert test.target() == "http://localhost:8700/chat"


def test_http_test_without_url_names_the_field() -> None:
    errors = _errors({"name": "t", "kind": "http", "request": {"method": "GET"}})
    assert ("http.request.url", "Field required") in errors


def test_call_phone_must_be_e164() -> None:
    errors = _errors({"name": "t", "kind": "call", "phone": "555-0100"})
    assert errors[0][0] == "call.phone"
    assert "E.164" in errors[0][1]


def test_call_phone_is_normalised_and_missing_phone_skips() -> None:
    test = parse_test({"name": "t", "kind": "call", "phone": "+1 (555) 555-0100"})
    assert isinstance(test, CallTest)
    assert test.phone == "+15555550100"
    assert test.skip_reason() is None
    assert parse_test({"name": "t", "kind": "call"}).skip_reason() == "no phone number"


def test_unknown_check_key_is_refused() -> None:
    errors = _errors(
        {"name": "t", "kind": "http", "request": {"url": "http://x"}, "checks": [{"stauts": 200}]}
    )
    assert errors[0][0] == "http.checks.0"
    assert "unknown check" in errors[0][1]


def test_extra_key_in_a_check_is_refused() -> None:
    errors = _errors(
        {"name": "t", "kind": "http", "request": {"url": "http://x"}, "checks": [{"status": 200, "x": 1}]}
    )
    assert any(loc.endswith("x") and "Extra inputs" in msg for loc, msg in errors)


def test_check_that_does_not_fit_the_kind_is_refused() -> None:
    errors = _errors(
        {"name": "t", "kind": "http", "request": {"url": "http://x"}, "checks": [{"answered": True}]}
    )
    assert "does not apply to http tests" in errors[0][1]


def test_negative_timeout_is_refused() -> None:
    errors = _errors({"name": "t", "kind": "command", "command": "true", "timeout_s": -1})
    assert errors[0][0] == "command.timeout_s"


def test_unknown_kind_is_refused() -> None:
    errors = _errors({"name": "t", "kind": "smoke-signal"})
    assert "smoke-signal" in str(errors) or "tag" in errors[0][1]


def test_bad_regex_and_jsonpath_are_refused() -> None:
    assert "invalid regex" in str(
        _errors({"name": "t", "kind": "command", "command": "x", "checks": [{"regex": "("}]})
    )
    bad_path = {
        "name": "t",
        "kind": "http",
        "request": {"url": "http://x"},
        "checks": [{"jsonpath": "$[", "exists": True}],
    }
    assert "invalid JSONPath" in str(_errors(bad_path))


def test_caller_step_needs_exactly_one_action() -> None:
    errors = _errors(
        {"name": "t", "kind": "call", "phone": "+15555550100", "caller": [{"say": "hi", "pause": 1}]}
    )
    assert errors[0][0].startswith("call.caller.0")


def test_conversation_needs_turns() -> None:
    errors = _errors({"name": "t", "kind": "conversation", "endpoint": {"url": "http://x"}, "turns": []})
    assert errors[0][0] == "conversation.turns"


def test_dump_test_round_trips_and_leaves_defaults_out() -> None:
    data = {
        "name": "t",
        "kind": "conversation",
        "tags": ["a"],
        "endpoint": {"url": "http://localhost/chat"},
        "turns": [{"say": "hi", "expect": [{"regex": "(?i)hello"}]}],
    }
    test = parse_test(data)
    dumped = dump_test(test)
    assert "retries" not in dumped and "timeout_s" not in dumped
    assert parse_test(dumped) == test


def test_score_is_weighted_share_of_checks_passed() -> None:
    checks = [
        CheckResult(name="a", passed=True, weight=3),
        CheckResult(name="b", passed=False, weight=1),
    ]
    assert score(checks) == 75.0
    assert score([]) is None


def test_statuses_and_counts() -> None:
    assert RunStatus.SKIPPED.is_final and not RunStatus.RUNNING.is_final
    counts = BatchCounts(total=5, passed=2, failed=1, error=1, skipped=1)
    assert counts.done == 5
    assert counts.pass_rate == 50.0


@pytest.mark.parametrize(
    "check",
    [
        {"status": 200},
        {"status": [200, 201]},
        {"jsonpath": "$.reply", "contains": "help"},
        {"jsonpath": "$.count", "equals": 3, "weight": 2},
        {"jsonpath": "$.user", "equals": {"id": 1, "tags": ["a"]}},
        {"header": "Content-Type", "regex": "json$"},
        {"header": "X-Gone", "exists": False},
        {"latency_ms_below": 2000},
        {"contains": "hello", "not_contains": "sorry"},
        {"exit_code": 0},
        {"judge": "Was the agent polite?", "judge_samples": 3},
        {"status": 200, "name": "ok"},
    ],
)
def test_a_checks_label_is_its_fields_written_out_primary_first(check: dict[str, object]) -> None:
    parsed = TypeAdapter(Check).validate_python(check)
    dumped = parsed.model_dump(exclude_none=True, exclude={"name", "weight"})
    written = ", ".join(f"{key}={value!r}" for key, value in dumped.items())
    assert parsed.label() == (check.get("name") or written)
    assert parsed.label().startswith(str(check.get("name") or parsed.primary))
