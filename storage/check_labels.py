"""A run's checks split into what runs repeat (each check's label: name, expected, weight), stored once
per distinct list of labels, and what is the run's own (passed, actual, message); joined back when read.

Stored form of the run's own part: ``[passed, actuals]`` or ``[passed, actuals, messages]``: ``passed``
a string of 1/0, one per check; ``actuals`` the actual values in check order, trailing unset ones left
out; ``messages`` the non-empty messages by check index. Lists of labels are found by their text, so
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
    own: list[Any] = ["".join("1" if check["passed"] else "0" for check in dumped), actuals]
    messages = {str(index): check["message"] for index, check in enumerate(dumped) if check.get("message")}
    if messages:
        own.append(messages)
    return EncodedChecks(_text(labels), _text(own))


def join_checks(labels: list[dict[str, Any]], own: list[Any]) -> list[dict[str, Any]]:
    """The checks as ``CheckResult`` reads them, from a list of labels and a run's own part."""
    passed, actuals = own[0], own[1]
    messages = own[2] if len(own) > 2 else {}
    if len(passed) != len(labels):
        raise ValueError(f"{len(passed)} checks stored for {len(labels)} labels")
    joined = []
    for index, label in enumerate(labels):
        check = {**label, "passed": passed[index] == "1"}
        if index < len(actuals) and actuals[index] is not None:
            check["actual"] = actuals[index]
        message = messages.get(str(index))
        if message:
            check["message"] = message
        joined.append(check)
    return joined
