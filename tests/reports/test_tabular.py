"""CSV and JSON exports of runs, and the numbers of a batch report."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from callboard.core.models import CheckResult, Run, RunStatus
from callboard.core.models.reports import BatchReport, FailureSummary, SlowRun
from callboard.core.reports.tabular import CSV_COLUMNS, build_report, runs_csv, runs_json
from tests.reports.factories import T0, make_batch, make_run


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_round_trips_through_dictreader() -> None:
    checks = [
        CheckResult(name="status", passed=True),
        CheckResult(name="greeting", passed=False),
        CheckResult(name="latency", passed=False),
    ]
    runs = [
        make_run(
            1,
            "books a table",
            RunStatus.FAILED,
            kind="conversation",
            trial=2,
            attempt=1,
            score=33.33,
            duration_ms=1234.5,
            started_at=T0,
            finished_at=T0 + timedelta(seconds=1.2345),
            checks=checks,
        ),
        make_run(
            2,
            'says "hi", twice',
            RunStatus.ERROR,
            error_kind="http",
            error_message='503 from upstream\nretry later, "soon"',
        ),
        make_run(3, "later", RunStatus.SKIPPED, skip_reason="no phone number"),
    ]
    text = runs_csv(runs)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    assert rows[0] == {
        "run_id": "1",
        "batch_id": "7",
        "test": "books a table",
        "kind": "conversation",
        "target": "http://agent",
        "trial": "2",
        "attempt": "1",
        "status": "failed",
        "score": "33.33",
        "duration_ms": "1234.5",
        "started_at": "2024-05-01T12:00:00+00:00",
        "finished_at": "2024-05-01T12:00:01.234500+00:00",
        "error_kind": "",
        "error_message": "",
        "skip_reason": "",
        "failed_checks": "greeting; latency",
    }
    assert (rows[1]["test"], rows[1]["error_kind"], rows[1]["error_message"]) == (
        'says "hi", twice',
        "http",
        '503 from upstream\nretry later, "soon"',
    )
    assert (rows[2]["status"], rows[2]["skip_reason"], rows[2]["score"]) == ("skipped", "no phone number", "")


def test_csv_of_no_runs_is_the_header() -> None:
    assert runs_csv([]) == ",".join(CSV_COLUMNS) + "\r\n"


def test_csv_defuses_formulas_but_keeps_numbers() -> None:
    run = make_run(
        1,
        '=HYPERLINK("http://evil","x")',
        RunStatus.ERROR,
        target="+cmd|' /C calc'!A0",
        error_kind="@SUM(A1)",
        error_message="-2+3",
        skip_reason="\tpadded",
        duration_ms=-5.0,
        checks=[CheckResult(name="-1", passed=False), CheckResult(name="=x", passed=False)],
    )
    [row] = read_csv(runs_csv([run]))
    assert row["test"] == '\'=HYPERLINK("http://evil","x")'
    assert row["target"] == "'+cmd|' /C calc'!A0"
    assert row["error_kind"] == "'@SUM(A1)"
    assert row["error_message"] == "'-2+3"
    assert row["skip_reason"] == "'\tpadded"
    assert row["failed_checks"] == "'-1; =x"
    # A plain number that happens to start with a sign is data, not a formula.
    assert row["duration_ms"] == "-5.0"
    [negative_name] = read_csv(runs_csv([make_run(2, "-3.5")]))
    assert negative_name["test"] == "-3.5"


def test_json_holds_batch_and_runs_without_snapshots() -> None:
    runs = [
        make_run(
            1,
            snapshot={"definition": {"name": "greets", "body": "x" * 10_000}},
            metrics={"latency_ms": 12.5, "ratio": float("nan"), "peak": float("inf")},
            started_at=T0,
            checks=[CheckResult(name="status", passed=True, expected=200, actual=200)],
        ),
        make_run(2, "other", RunStatus.QUEUED),
    ]
    document = json.loads(runs_json(make_batch(), runs))
    assert set(document) == {"batch", "runs"}
    assert document["batch"]["id"] == 7
    assert document["batch"]["label"] == "nightly"
    assert document["batch"]["created_at"] == "2024-05-01T12:00:00Z"
    assert [run["id"] for run in document["runs"]] == [1, 2]
    assert all("snapshot" not in run for run in document["runs"])
    first = document["runs"][0]
    assert first["status"] == "passed"
    assert first["metrics"] == {"latency_ms": 12.5, "ratio": None, "peak": None}
    assert first["checks"] == [
        {"name": "status", "passed": True, "expected": 200, "actual": 200, "message": "", "weight": 1.0}
    ]


def scored(run_id: int, score: float, status: RunStatus = RunStatus.PASSED, **changes: Any) -> Run:
    return make_run(run_id, f"t{run_id}", status, score=score, **changes)


def test_build_report_numbers() -> None:
    failed_checks = [
        CheckResult(name="status", passed=True, expected=200, actual=200),
        CheckResult(name="greeting", passed=False, expected="hello", actual="bye", message="wrong greeting"),
        CheckResult(name="latency", passed=False, expected=500, actual=900),
    ]
    runs = [
        scored(1, 100.0, duration_ms=300.0),
        scored(2, 95.5, duration_ms=900.0),
        scored(3, 90.0, duration_ms=100.0),
        scored(4, 33.33, RunStatus.FAILED, checks=failed_checks, duration_ms=900.0),
        scored(
            5, 9.99, RunStatus.FAILED, checks=[CheckResult(name="intent", passed=False)], duration_ms=50.0
        ),
        scored(6, 0.0, RunStatus.FAILED, checks=[CheckResult(name="x", passed=False)]),
        make_run(
            7, "t7", RunStatus.ERROR, error_kind="timeout", error_message="no result", duration_ms=5000.0
        ),
        make_run(8, "t8", RunStatus.SKIPPED, skip_reason="no phone"),
        make_run(9, "t9", RunStatus.CANCELLED),
        make_run(10, "t10", RunStatus.QUEUED),
        make_run(11, "t11", RunStatus.RUNNING),
    ]
    report = build_report(make_batch(), runs, slowest=3, failures_limit=2)

    assert isinstance(report, BatchReport)
    assert report.batch.id == 7
    assert report.counts.model_dump() == {
        "total": 11,
        "queued": 1,
        "running": 1,
        "passed": 3,
        "failed": 3,
        "error": 1,
        "cancelled": 1,
        "skipped": 1,
    }
    assert report.pass_rate == round(100 * 3 / 7, 2)

    scores = report.scores
    assert (scores.count, scores.minimum, scores.maximum) == (6, 0.0, 100.0)
    assert scores.median == (33.33 + 90.0) / 2
    assert scores.mean == round((100 + 95.5 + 90 + 33.33 + 9.99 + 0) / 6, 2)
    assert [bucket.label for bucket in scores.buckets] == [
        "0-9",
        "10-19",
        "20-29",
        "30-39",
        "40-49",
        "50-59",
        "60-69",
        "70-79",
        "80-89",
        "90-100",
    ]
    assert [bucket.count for bucket in scores.buckets] == [2, 0, 0, 1, 0, 0, 0, 0, 0, 3]

    # Ties broken by run id.
    assert report.slowest == (
        SlowRun(run_id=7, test_name="t7", trial=1, duration_ms=5000.0),
        SlowRun(run_id=2, test_name="t2", trial=1, duration_ms=900.0),
        SlowRun(run_id=4, test_name="t4", trial=1, duration_ms=900.0),
    )

    assert report.total_failures == 4
    assert report.failures == (
        FailureSummary(
            run_id=4,
            test_name="t4",
            trial=1,
            status=RunStatus.FAILED,
            check_name="greeting",
            expected="hello",
            actual="bye",
            message="wrong greeting",
            error_kind=None,
        ),
        FailureSummary(
            run_id=5,
            test_name="t5",
            trial=1,
            status=RunStatus.FAILED,
            check_name="intent",
            expected=None,
            actual=None,
            message="",
            error_kind=None,
        ),
    )
    error = build_report(make_batch(), runs).failures[-1]
    assert (error.run_id, error.status, error.check_name, error.error_kind, error.message) == (
        7,
        RunStatus.ERROR,
        None,
        "timeout",
        "no result",
    )


def test_build_report_of_an_empty_batch() -> None:
    report = build_report(make_batch(), [])
    assert report.counts.total == 0
    assert report.pass_rate is None
    assert (report.scores.count, report.scores.minimum, report.scores.median) == (0, None, None)
    assert (report.scores.mean, report.scores.maximum) == (None, None)
    assert sum(bucket.count for bucket in report.scores.buckets) == 0
    assert (report.slowest, report.failures, report.total_failures) == ((), (), 0)
