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
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticSerializationError, to_json, to_jsonable_python

from callboard.core.models import CheckResult

_PLAIN = frozenset({str, int, float, bool})
_BITS = 53  # the most checks whose passes fit a JSON number exactly (a double's mantissa)


@dataclass(frozen=True, slots=True)
class EncodedChecks:
    """A run's checks ready to store: ``labels`` (None without checks) and the run's own part."""

    labels: str | None
    own: str


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _text(value: object) -> str:
    # pydantic-core's encoder is four times as fast as json's on these small lists (once a run, on the
    # engine's loop); json's takes what it refuses (a lone surrogate from a reply's JSON).
    try:
        return to_json(value).decode()
    except PydanticSerializationError:
        return _ENCODER.encode(value)


def encode_checks(checks: Sequence[CheckResult]) -> EncodedChecks:
    """The stored forms of ``checks``; fields at their defaults are left out (they come back when read).
    Read off the models directly rather than through a pydantic dump: this runs once a run, in the
    engine's loop, and the dump was most of its cost."""
    if not checks:
        return EncodedChecks(None, "[]")
    labels: list[dict[str, Any]] = []
    actuals: list[Any] = []
    messages: dict[str, str] = {}
    passes = 0
    for index, check in enumerate(checks):
        label: dict[str, Any] = {"name": check.name}
        if check.expected is not None:
            label["expected"] = _jsonable(check.expected)
        if check.weight != 1.0:
            label["weight"] = check.weight
        labels.append(label)
        actuals.append(None if check.actual is None else _jsonable(check.actual))
        if check.message:
            messages[str(index)] = check.message
        if check.passed:
            passes |= 1 << index
    while actuals and actuals[-1] is None:
        actuals.pop()
    passed: int | str = passes
    if len(checks) > _BITS:  # past what a JSON number holds exactly: a string of 1/0
        passed = "".join("1" if check.passed else "0" for check in checks)
    own: list[Any] = [passed, actuals]
    if messages:
        own.append(messages)
    return EncodedChecks(_text(labels), _text(own))


def _jsonable(value: Any) -> Any:
    """``value`` as a JSON dump of the model gives it (plain values as they are)."""
    kind = type(value)
    if kind is float:  # as pydantic dumps a float that JSON cannot hold: null
        return value if math.isfinite(value) else None
    return value if kind in _PLAIN else to_jsonable_python(value)


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
