"""``callboard tests --json`` writes exactly what ``json.dumps(..., indent=2)`` wrote before it was made
fast: the same text for ASCII names, and non-ASCII names escaped as json.dumps escapes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from callboard.core.cli.suite_commands import _as_json
from callboard.core.models import RunStatus
from callboard.core.models.api import TestList, TestSummary


def _summary(name: str, score: float | None) -> TestSummary:
    return TestSummary(
        id=7,
        name=name,
        kind="http",
        target="http://127.0.0.1:8700/chat",
        tags=["smoke", "team-1"],
        version=2,
        skip_reason=None,
        last_status=RunStatus.FAILED if score is not None else None,
        last_score=score,
        last_run_at=datetime(2026, 11, 30, 19, 46, 21, 791271, tzinfo=UTC) if score is not None else None,
    )


@pytest.mark.parametrize("name", ["greets-caller", "café-öffnungszeiten", "emoji-😀", '[bold]x[/] "q"'])
def test_the_listing_is_written_as_json_dumps_writes_it(name: str) -> None:
    tests = [_summary(name, 66.66666666666667), _summary("never-ran", None), _summary("zero", 0.0)]

    written = _as_json(TestList(tests=tests).model_dump_json().encode())  # as the daemon sends it

    assert written == json.dumps([test.model_dump(mode="json") for test in tests], indent=2)
    assert [row["name"] for row in json.loads(written)] == [name, "never-ran", "zero"]
