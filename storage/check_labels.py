"""A run's checks split into what runs repeat (each check's label: name, expected, weight), stored once
per distinct list of labels, and what is the run's own (passed, actual, message); joined back when read.

Stored form of the run's own part: ``[passed, actuals]`` or ``[passed, actuals, messages]``: ``passed``
a number whose bit i says whether check i passed (up to 53 checks, what a JSON number holds exactly;
beyond, and in runs stored before, a string of 1/0, one per check: both are read); ``actuals`` the
actual values in check order, trailing unset ones left out; ``messages`` the non-empty messages by
check index. Lists of labels are found by their text, so
they are always encoded the same way, here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from callboard.core.models import CheckResult

_CHECKS = TypeAdapter(list[CheckResult])
_LABEL_FIELDS = ("name", "expected", "weight")
_BITS = 53  # the most checks whose passes fit a JSON number exactly (a double's mantissa)


@dataclass(frozen=True, slots=True)
class EncodedChecks:
    """A run's checks ready to store: ``labels`` (None without checks) and the run's own part."""

    labels: str | None
    own: str


def _text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_checks(checks: Sequence[CheckResult]) -> EncodedChecks:
    """The stored forms of ``checks``; fields at their defaults are left out (they come back when read)."""
    dumped: list[dict[str, Any]] = _CHECKS.dump_python(list(checks), mode="json", exclude_defaults=True)
    if not dumped:
        return EncodedChecks(None, "[]")
    labels = [{key: check[key] for key in _LABEL_FIELDS if key in check} for check in dumped]
    actuals = [check.get("actual") for check in dumped]
    while actuals and actuals[-1] is None:
        actuals.pop()
    own: list[Any] = [_passes(dumped), actuals]
    messages = {str(index): check["message"] for index, check in enumerate(dumped) if check.get("message")}
    if messages:
        own.append(messages)
    return EncodedChecks(_text(labels), _text(own))


def _passes(dumped: list[dict[str, Any]]) -> int | str:
    """Which checks passed: a number, bit i for check i (5 checks that all passed: ``31``, not
    ``"11111"``), or a string of 1/0 past what a number holds exactly."""
    if len(dumped) > _BITS:
        return "".join("1" if check["passed"] else "0" for check in dumped)
    return sum(1 << index for index, check in enumerate(dumped) if check["passed"])


def _passed(stored: int | str, count: int) -> list[bool]:
    """Each check's pass, from either stored form."""
    if isinstance(stored, str):
        if len(stored) != count:
            raise ValueError(f"{len(stored)} checks stored for {count} labels")
        return [char == "1" for char in stored]
    if stored >> count:
        raise ValueError(f"passes {stored} name more checks than the {count} labels")
    return [bool(stored >> index & 1) for index in range(count)]


def join_checks(labels: list[dict[str, Any]], own: list[Any]) -> list[dict[str, Any]]:
    """The checks as ``CheckResult`` reads them, from a list of labels and a run's own part."""
    passed, actuals = _passed(own[0], len(labels)), own[1]
    messages = own[2] if len(own) > 2 else {}
    joined = []
    for index, label in enumerate(labels):
        check = {**label, "passed": passed[index]}
        if index < len(actuals) and actuals[index] is not None:
            check["actual"] = actuals[index]
        message = messages.get(str(index))
        if message:
            check["message"] = message
        joined.append(check)
    return joined
