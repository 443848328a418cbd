"""The summary: when each policy notifies, its JSON form and its headline."""

from __future__ import annotations

import json

import pytest

from callboard.core.notify.summary import (
    MAX_FAILING_IN_JSON,
    FailingTest,
    format_duration,
    short,
    should_notify,
)
from tests.notify.support import make_summary

CLEAN = {"passed": 10, "failed": 0, "error": 0, "pass_rate": 100.0, "failing": ()}


@pytest.mark.parametrize(
    ("overrides", "always", "failure", "drop"),
    [
        ({}, True, True, True),  # failures, and down from 90%
        (CLEAN, True, False, False),  # up from 90%
        ({**CLEAN, "previous_pass_rate": 100.0}, True, False, False),  # unchanged
        ({"failed": 0, "error": 1, "previous_pass_rate": 60.0}, True, True, False),  # errors are failures
        ({"previous_pass_rate": None}, True, True, False),  # no previous batch: nothing to drop from
        ({"pass_rate": None, "passed": 0, "failed": 0, "error": 0}, True, False, False),  # nothing judged
    ],
)
def test_policies(overrides: dict[str, object], always: bool, failure: bool, drop: bool) -> None:
    summary = make_summary(**overrides)
    assert [should_notify(when, summary) for when in ("always", "failure", "drop")] == [always, failure, drop]


def test_as_dict_is_json_with_every_field() -> None:
    data = json.loads(json.dumps(make_summary().as_dict()))
    assert data["batch_id"] == 42 and data["label"] == "nightly smoke" and data["schedule_name"] == "nightly"
    assert (data["passed"], data["failed"], data["error"], data["total"]) == (7, 2, 1, 10)
    assert (data["pass_rate"], data["previous_pass_rate"]) == (70.0, 90.0)
    assert data["finished_at"] == "2024-05-01T02:12:03+00:00"
    reason = "turn 2: expected /booked/, got 'Sorry?'"  # first line only
    assert data["failing"][1] == {"name": "books-cleaning", "reason": reason}
    assert data["failing_omitted"] == 0 and data["report_hint"] == "callboard report 42"


def test_the_failing_list_is_capped() -> None:
    failing = tuple(FailingTest(f"t{i}", "x" * 1000) for i in range(MAX_FAILING_IN_JSON + 7))
    data = make_summary(failing=failing).as_dict()
    assert len(data["failing"]) == MAX_FAILING_IN_JSON and data["failing_omitted"] == 7
    assert len(data["failing"][0]["reason"]) == 300


def test_headline() -> None:
    assert make_summary().headline() == (
        "Batch 'nightly smoke' (#42) finished: 7/10 passed (70%, was 90%), 2 failed, 1 error, in 12m 3s"
    )
    assert make_summary(**CLEAN, previous_pass_rate=None, duration_s=None).headline() == (
        "Batch 'nightly smoke' (#42) finished: 10/10 passed (100%)"
    )


def test_formatting_helpers() -> None:
    assert [format_duration(s) for s in (4.24, 723.4, 7500)] == ["4.2s", "12m 3s", "2h 5m"]
    assert short("  first\nsecond") == "first" and short("") == "" and short("abcdef", 4) == "abc…"
