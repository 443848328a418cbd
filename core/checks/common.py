"""Helpers every check evaluator uses: bounded values, text comparisons, result building."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Protocol

from callboard.core.models import CheckBase, CheckResult
from callboard.core.wording import shorten

MAX_ACTUAL_CHARS = 200


class TextComparisons(Protocol):
    """The comparison fields shared by body, header and JSONPath checks."""

    @property
    def contains(self) -> str | None: ...
    @property
    def not_contains(self) -> str | None: ...
    @property
    def regex(self) -> str | None: ...
    @property
    def equals(self) -> Any: ...


@lru_cache(maxsize=2048)
def compiled_regex(pattern: str) -> re.Pattern[str]:
    """The compiled pattern (validated when the suite was loaded), cached across runs."""
    return re.compile(pattern)


def truncate(text: str, limit: int = MAX_ACTUAL_CHARS) -> str:
    """``text`` cut to ``limit`` characters (a check's actual value: ``MAX_ACTUAL_CHARS``)."""
    return shorten(text, limit)


def as_text(value: Any) -> str:
    """How a JSON value reads as text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def bounded(value: Any) -> Any:
    """A value small enough to store as a check's ``actual``: scalars as they are, else cut text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return truncate(as_text(value))


def values_equal(left: Any, right: Any) -> bool:
    """JSON equality that, unlike Python's, keeps true apart from 1 and false apart from 0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(values_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def text_mismatch(check: TextComparisons, text: str) -> str | None:
    """Why ``text`` fails the check's contains / not_contains / regex, or None when they all hold."""
    if check.contains is not None and check.contains not in text:
        return f"does not contain {check.contains!r}"
    if check.not_contains is not None and check.not_contains in text:
        return f"contains {check.not_contains!r}"
    if check.regex is not None and compiled_regex(check.regex).search(text) is None:
        return f"does not match /{check.regex}/"
    return None


def describe(check: TextComparisons) -> str:
    """What a matcher check expects, e.g. "contains 'help' and not_contains 'sorry'"."""
    parts = [
        f"{key} {getattr(check, key)!r}"
        for key in ("exists", "contains", "not_contains", "regex", "equals")
        if getattr(check, key, None) is not None
    ]
    return " and ".join(parts)


def result(
    check: CheckBase, *, passed: bool, expected: Any, actual: Any, message: str = "", prefix: str = ""
) -> CheckResult:
    """A CheckResult named after the check, with ``actual`` kept small."""
    return CheckResult(
        name=prefix + check.label(),
        passed=passed,
        expected=expected,
        actual=bounded(actual),
        message=message,
        weight=check.weight,
    )


def not_applicable(check: CheckBase, what: str, prefix: str = "") -> CheckResult:
    """A failed result for a check that cannot be judged here (e.g. a call check on an HTTP reply)."""
    return result(
        check,
        passed=False,
        expected=None,
        actual=None,
        message=f"a '{check.primary}' check does not apply to {what}",
        prefix=prefix,
    )
