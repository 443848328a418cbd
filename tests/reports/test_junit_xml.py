"""JUnit XML export: schema validity, status mapping, unique names, counts, sanitising, truncation."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from callboard.core.models import Batch, BatchStatus, CheckResult, Run, RunStatus, TranscriptEntry
from callboard.core.reports.junit_xml import junit_xml
from tests.reports.factories import T0, make_batch
from tests.reports.factories import make_run as make_any_run

# Runs with a verdict here took one second, so times in the XML are known.
make_run = partial(make_any_run, timed=True)

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))
ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def export(runs: list[Run], batch: Batch | None = None, **options: Any) -> ET.Element:
    """The export of ``runs``, checked against the schema, parsed."""
    document = junit_xml(batch or make_batch(), runs, **options)
    SCHEMA.validate(document.decode("utf-8"))
    return ET.fromstring(document)


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in root.iter("testcase")}


def test_document_is_utf8_with_declaration() -> None:
    document = junit_xml(make_batch(), [make_run(1, test_name="grüßt 👋")])
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert "grüßt 👋" in document.decode("utf-8")


def test_each_status_maps_to_its_element() -> None:
    checks = [
        CheckResult(name="status", passed=True, expected=200, actual=200),
        CheckResult(name="greeting", passed=False, expected="hello", actual="bye", message="wrong greeting"),
        CheckResult(name="latency", passed=False, expected=500, actual=900),
    ]
    runs = [
        make_run(1, "passes"),
        make_run(2, "fails", RunStatus.FAILED, checks=checks, score=33.33),
        make_run(3, "errs", RunStatus.ERROR, error_kind="timeout", error_message="no result within 30 s"),
        make_run(4, "skips", RunStatus.SKIPPED, skip_reason="no phone number configured"),
        make_run(5, "cancelled", RunStatus.CANCELLED),
        make_run(6, "waits", RunStatus.QUEUED),
        make_run(7, "goes", RunStatus.RUNNING),
    ]
    by_name = cases(export(runs, make_batch(status=BatchStatus.RUNNING)))

    assert [child.tag for child in by_name["passes"]] == ["system-out"]

    failure = by_name["fails"].find("failure")
    assert failure is not None
    assert failure.get("message") == "wrong greeting"
    assert failure.get("type") == "greeting"
    assert failure.text == (
        'greeting: expected "hello", got "bye" (wrong greeting)\nlatency: expected 500, got 900'
    )

    error = by_name["errs"].find("error")
    assert error is not None
    assert (error.get("type"), error.get("message")) == ("timeout", "no result within 30 s")

    skipped = {name: by_name[name].find("skipped") for name in ("skips", "cancelled", "waits", "goes")}
    assert {name: element.get("message") for name, element in skipped.items() if element is not None} == {
        "skips": "no phone number configured",
        "cancelled": "cancelled",
        "waits": "not finished (queued)",
        "goes": "not finished (running)",
    }


def test_failure_message_falls_back_to_expected_and_actual() -> None:
    checks = [CheckResult(name="intent", passed=False, expected=["book"], actual=None)]
    [case] = export([make_run(1, status=RunStatus.FAILED, checks=checks)]).iter("testcase")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == 'expected ["book"], got null'


def test_counts_and_times_add_up() -> None:
    runs = [
        make_run(1, "a", duration_ms=1234.4),
        make_run(2, "b", RunStatus.FAILED, checks=[CheckResult(name="c", passed=False)], duration_ms=5.0),
        make_run(3, "c", RunStatus.ERROR, error_kind="http", duration_ms=None),
        make_run(4, "d", RunStatus.SKIPPED, kind="call"),
        make_run(5, "e", RunStatus.CANCELLED, kind="call"),
        make_run(6, "f", kind="call", duration_ms=2000.6),
    ]
    root = export(runs)
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["callboard.batch-7.call", "callboard.batch-7.http"]
    for suite in suites:
        suite_cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(suite_cases)
        for attribute, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            assert int(suite.get(attribute, "")) == sum(case.find(tag) is not None for case in suite_cases)
        assert suite.get("time") == f"{sum(float(case.get('time', '')) for case in suite_cases):.3f}"
    assert {name: root.get(name) for name in ("name", "tests", "failures", "errors", "time")} == {
        "name": "callboard",
        "tests": "6",
        "failures": "1",
        "errors": "1",
        "time": "3.240",
    }
    assert {case.get("name"): case.get("time") for case in root.iter("testcase")} == {
        "a": "1.234",
        "b": "0.005",
        "c": "0.000",
        "d": "0.000",
        "e": "0.000",
        "f": "2.001",
    }


def test_a_negative_duration_is_zero_seconds() -> None:
    [case] = export([make_run(1, duration_ms=-3.0)]).iter("testcase")
    assert case.get("time") == "0.000"


def test_suites_carry_properties_and_earliest_start() -> None:
    plus_two = timezone(timedelta(hours=2))
    runs = [
        make_run(1, "late", started_at=datetime(2024, 5, 1, 15, 30, 9, tzinfo=plus_two)),
        make_run(2, "early", started_at=datetime(2024, 5, 1, 14, 0, 0, 999_999, tzinfo=plus_two)),
        make_run(3, "queued", RunStatus.QUEUED, kind="call"),
    ]
    root = export(runs)
    http, call = root.findall("testsuite")[1], root.findall("testsuite")[0]
    assert http.get("timestamp") == "2024-05-01T12:00:00"
    assert call.get("timestamp") == "2024-05-01T12:00:00"  # nothing started: the batch's creation
    properties = {prop.get("name"): prop.get("value") for prop in http.iter("property")}
    assert properties == {
        "batch.id": "7",
        "batch.label": "nightly",
        "batch.source": "cli",
        "batch.status": "finished",
    }
    assert {case.get("classname") for case in root.iter("testcase")} == {"callboard.http", "callboard.call"}


def test_trials_and_duplicates_get_unique_names() -> None:
    runs = [
        make_run(1, "greets", trial=1),
        make_run(2, "greets", trial=2),
        make_run(3, "greets", trial=3),
        make_run(4, "alone", trial=2),
        make_run(5, "twice"),
        make_run(6, "twice"),
        # A name that looks like another run's suffixed name must still not clash.
        make_run(7, "twice [trial 1] #5"),
        make_run(8, "solo"),
        make_run(9, "solo", kind="call"),
    ]
    root = export(runs)
    pairs = [(case.get("classname"), case.get("name")) for case in root.iter("testcase")]
    assert len(set(pairs)) == len(pairs) == len(runs)
    assert set(pairs) == {
        ("callboard.http", "greets [trial 1]"),
        ("callboard.http", "greets [trial 2]"),
        ("callboard.http", "greets [trial 3]"),
        ("callboard.http", "alone [trial 2]"),
        ("callboard.http", "twice [trial 1] #5"),
        ("callboard.http", "twice [trial 1] #6"),
        ("callboard.http", "twice [trial 1] #5 #7"),
        ("callboard.http", "solo"),
        ("callboard.call", "solo"),
    }


def test_illegal_characters_are_stripped() -> None:
    checks = [
        CheckResult(name="say\x07", passed=False, expected="hi\x00", actual="\x1bbye", message="bad\x0c")
    ]
    runs = [
        make_run(
            1,
            "bad\x00name\x1f",
            RunStatus.FAILED,
            checks=checks,
            target="http://agent\x08",
            transcript=[TranscriptEntry(speaker="agent\ufffe", text="lone \ud800 surrogate\uffff\tok\nnext")],
            artifacts={"log\x0b": "file://x\x0e"},
        ),
        make_run(2, "bad\x00name", RunStatus.ERROR, error_kind="http\x01", error_message="oops\x19\r\n"),
        make_run(3, "badname", RunStatus.SKIPPED, skip_reason="why\x02"),
    ]
    batch = Batch(id=7, label="night\x03ly", source="cli", status=BatchStatus.FINISHED, created_at=T0)
    document = junit_xml(batch, runs)
    text = document.decode("utf-8")
    assert not ILLEGAL_XML.search(text)
    SCHEMA.validate(text)
    root = ET.fromstring(document)
    # Names that only differed by illegal characters are still told apart.
    assert sorted(case.get("name", "") for case in root.iter("testcase")) == [
        "badname #1",
        "badname #2",
        "badname #3",
    ]
    failing = next(case for case in root.iter("testcase") if case.find("failure") is not None)
    output = failing.findtext("system-out", "")
    assert "agent: lone  surrogate\tok\nnext" in output
    failure = failing.find("failure")
    assert failure is not None and failure.get("message") == "bad" and failure.get("type") == "say"


def test_system_out_summarises_the_run() -> None:
    run = make_run(
        1,
        status=RunStatus.FAILED,
        score=50.0,
        checks=[CheckResult(name="a", passed=True), CheckResult(name="b", passed=False)],
        metrics={"latency_ms": 812.5, "turns": 3.0},
        transcript=[
            TranscriptEntry(speaker="agent", text="Hello"),
            TranscriptEntry(speaker="caller", text="Hi"),
        ],
        artifacts={"recording": "https://example.test/r.wav"},
        attempt=2,
        max_attempts=3,
    )
    [case] = export([run]).iter("testcase")
    assert case.findtext("system-out") == "\n".join(
        [
            "run 1: failed, target http://agent, trial 1, attempt 2/3",
            "score: 50",
            "checks: 1/2 passed",
            "metrics:",
            "  latency_ms: 812.5",
            "  turns: 3",
            "transcript:",
            "  agent: Hello",
            "  caller: Hi",
            "artifacts:",
            "  recording: https://example.test/r.wav",
        ]
    )


def test_long_output_is_truncated_with_a_marker() -> None:
    transcript = [TranscriptEntry(speaker="agent", text="x" * 1000) for _ in range(10)]
    long_error = "e" * 5000
    runs = [
        make_run(1, "talks", transcript=transcript),
        make_run(2, "breaks", RunStatus.ERROR, error_kind="internal", error_message=long_error),
    ]
    by_name = cases(export(runs, max_output_chars=500))
    output = by_name["talks"].findtext("system-out", "")
    assert len(output) == 500
    assert output.startswith("run 1: passed")
    assert output.endswith("characters in all]")
    error = by_name["breaks"].find("error")
    assert error is not None and error.text is not None
    assert len(error.text) == 500 and error.text.endswith("[… truncated: 5000 characters in all]")
    # The message attribute is bounded on its own, much shorter limit.
    assert len(error.get("message", "")) == 1000


def test_short_output_is_left_alone() -> None:
    [case] = export([make_run(1)], max_output_chars=64_000).iter("testcase")
    assert "truncated" not in case.findtext("system-out", "")


def test_an_empty_batch_is_a_valid_document() -> None:
    root = export([])
    assert root.findall("testsuite") == []
    assert (root.get("tests"), root.get("time")) == ("0", "0.000")


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
            '<testcase classname="c"/></testsuite></testsuites>',
            id="testcase without name",
        ),
        pytest.param(
            '<testsuites><testsuite name="s" tests="1" failures="0">'
            '<testcase classname="c" name="n"/></testsuite></testsuites>',
            id="testsuite without errors",
        ),
        pytest.param(
            '<testsuites><testsuite name="s" tests="one" failures="0" errors="0"/></testsuites>',
            id="count not a number",
        ),
        pytest.param(
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
            '<testcase classname="c" name="n" time="1,5"/></testsuite></testsuites>',
            id="time not decimal seconds",
        ),
        pytest.param('<testsuites skipped="1"/>', id="skipped on testsuites"),
        pytest.param(
            '<testsuites><testsuite name="s" tests="1" failures="1" errors="0">'
            '<testcase classname="c" name="n"><system-out/><failure/></testcase></testsuite></testsuites>',
            id="failure after output",
        ),
        pytest.param("<testsuites><testcase classname='c' name='n'/></testsuites>", id="case outside suite"),
    ],
)
def test_the_schema_rejects_malformed_documents(document: str) -> None:
    assert not SCHEMA.is_valid(document)


def test_the_schema_accepts_a_minimal_document() -> None:
    SCHEMA.validate(
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
        '<testcase classname="c" name="n"/></testsuite></testsuites>'
    )
