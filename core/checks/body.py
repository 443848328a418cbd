"""The body check: contains / not_contains / regex / equals on a text (a body, a reply, stdout)."""

from __future__ import annotations

import json

from callboard.core.checks.common import describe, result, text_mismatch, values_equal
from callboard.core.models import CheckResult
from callboard.core.models.checks import BodyCheck


def evaluate_body_check(check: BodyCheck, text: str, what: str = "body", prefix: str = "") -> CheckResult:
    """Judge ``text``; ``what`` names it in messages ("body", "reply", "stdout").

    ``equals`` with a string compares the text with surrounding whitespace ignored (stdout ends in a
    newline); with any other value it compares the text parsed as JSON.
    """
    expected = describe(check)
    problem = text_mismatch(check, text)
    if problem is None and check.equals is not None:
        problem = _equals_problem(check.equals, text, what)
    if problem is None:
        return result(check, passed=True, expected=expected, actual=text, prefix=prefix)
    return result(
        check, passed=False, expected=expected, actual=text, message=f"{what} {problem}", prefix=prefix
    )


def _equals_problem(expected: object, text: str, what: str) -> str | None:
    if isinstance(expected, str):
        return None if text.strip() == expected.strip() else f"is not equal to {expected!r}"
    try:
        value = json.loads(text)
    except ValueError:
        return f"is not JSON, so it cannot equal {expected!r}"
    return None if values_equal(value, expected) else f"JSON is not equal to {expected!r}"
