"""Checks on one HTTP response: status, headers, JSONPath, body, JSON Schema, latency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from callboard.core.checks.body import evaluate_body_check
from callboard.core.checks.common import (
    as_text,
    describe,
    not_applicable,
    result,
    text_mismatch,
    truncate,
    values_equal,
)
from callboard.core.checks.jsonpath import first_match
from callboard.core.checks.schema import schema_problem
from callboard.core.models import CheckBase, CheckResult
from callboard.core.models.checks import (
    BodyCheck,
    HeaderCheck,
    JsonPathCheck,
    JsonSchemaCheck,
    LatencyCheck,
    StatusCheck,
)


class HttpObservation(Protocol):
    """What the checks need from a response; ``headers`` must look names up case-insensitively."""

    status: int
    headers: Mapping[str, str]
    text: str
    elapsed_ms: float

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not JSON."""
        ...


def evaluate_http_checks(
    checks: Iterable[CheckBase], response: HttpObservation, text: str | None = None, prefix: str = ""
) -> list[CheckResult]:
    """Every check judged against ``response``; see evaluate_http_check."""
    return [evaluate_http_check(check, response, text, prefix) for check in checks]


def evaluate_http_check(
    check: CheckBase, response: HttpObservation, text: str | None = None, prefix: str = ""
) -> CheckResult:
    """Judge one check against ``response``.

    ``text`` replaces the body for body checks (a conversation checks the agent's reply, not the raw
    JSON); ``prefix`` is put before the result's name (e.g. "turn 2: ").
    """
    if isinstance(check, StatusCheck):
        return _status(check, response, prefix)
    if isinstance(check, HeaderCheck):
        return _header(check, response, prefix)
    if isinstance(check, JsonPathCheck):
        return _jsonpath(check, response, prefix)
    if isinstance(check, BodyCheck):
        if text is None:
            return evaluate_body_check(check, response.text, "body", prefix)
        return evaluate_body_check(check, text, "reply", prefix)
    if isinstance(check, JsonSchemaCheck):
        return _json_schema(check, response, prefix)
    if isinstance(check, LatencyCheck):
        return _latency(check, response, prefix)
    return not_applicable(check, "an HTTP response", prefix)


def _status(check: StatusCheck, response: HttpObservation, prefix: str) -> CheckResult:
    allowed = check.status if isinstance(check.status, list) else [check.status]
    if response.status in allowed:
        return result(check, passed=True, expected=check.status, actual=response.status, prefix=prefix)
    return result(
        check,
        passed=False,
        expected=check.status,
        actual=response.status,
        message=f"status was {response.status}",
        prefix=prefix,
    )


def _header(check: HeaderCheck, response: HttpObservation, prefix: str) -> CheckResult:
    expected = describe(check)
    value = response.headers.get(check.header)
    if value is None:
        passed = check.exists is False
        return result(
            check,
            passed=passed,
            expected=expected,
            actual=None,
            message="" if passed else f"no {check.header!r} header",
            prefix=prefix,
        )
    if check.exists is False:
        return result(
            check,
            passed=False,
            expected=expected,
            actual=value,
            message=f"the {check.header!r} header is present",
            prefix=prefix,
        )
    problem = text_mismatch(check, value)
    if problem is None and check.equals is not None and value != as_text(check.equals):
        problem = f"is not equal to {check.equals!r}"
    message = f"the {check.header!r} header {problem}" if problem else ""
    return result(
        check, passed=problem is None, expected=expected, actual=value, message=message, prefix=prefix
    )


def _jsonpath(check: JsonPathCheck, response: HttpObservation, prefix: str) -> CheckResult:
    expected = describe(check)
    try:
        document = response.json()
    except ValueError:
        return _not_json(check, response, expected, prefix)
    found, value = first_match(check.jsonpath, document)
    if not found:
        passed = check.exists is False
        message = "" if passed else f"nothing in the body matches {check.jsonpath}"
        return result(check, passed=passed, expected=expected, actual=None, message=message, prefix=prefix)
    if check.exists is False:
        return result(
            check,
            passed=False,
            expected=expected,
            actual=value,
            message=f"{check.jsonpath} is present",
            prefix=prefix,
        )
    problem = text_mismatch(check, as_text(value))
    if problem is None and check.equals is not None and not values_equal(value, check.equals):
        problem = f"is not equal to {check.equals!r}"
    message = f"{check.jsonpath} {problem}" if problem else ""
    return result(
        check, passed=problem is None, expected=expected, actual=value, message=message, prefix=prefix
    )


def _not_json(check: CheckBase, response: HttpObservation, expected: str, prefix: str) -> CheckResult:
    return result(
        check,
        passed=False,
        expected=expected,
        actual=response.text,
        message="the body is not JSON",
        prefix=prefix,
    )


def _json_schema(check: JsonSchemaCheck, response: HttpObservation, prefix: str) -> CheckResult:
    expected = "valid against the schema"
    try:
        document = response.json()
    except ValueError:
        return _not_json(check, response, expected, prefix)
    problem = schema_problem(check.json_schema, document)
    actual = "valid" if problem is None else truncate(problem)
    return result(
        check, passed=problem is None, expected=expected, actual=actual, message=problem or "", prefix=prefix
    )


def _latency(check: LatencyCheck, response: HttpObservation, prefix: str) -> CheckResult:
    elapsed = round(response.elapsed_ms, 1)
    expected = f"< {check.latency_ms_below:g} ms"
    if response.elapsed_ms < check.latency_ms_below:
        return result(check, passed=True, expected=expected, actual=elapsed, prefix=prefix)
    return result(
        check, passed=False, expected=expected, actual=elapsed, message=f"took {elapsed:g} ms", prefix=prefix
    )
