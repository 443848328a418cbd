"""The monitor and the commands on runs and batches, through the real CLI and a real daemon."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import xmlschema

from callboard.core.demo.process import demo_agent_process
from tests.conftest import CliRunner

JUNIT_XSD = Path(__file__).parent.parent / "reports" / "junit.xsd"


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[Path]:
    """Two passing tests and one failing test against a demo agent."""
    with demo_agent_process(latency_ms=1) as url:
        path = tmp_path / "suite.toml"
        path.write_text(
            f'[[test]]\nname = "health"\nkind = "http"\ntags = ["smoke"]\n'
            f'request = {{ url = "{url}/health" }}\nchecks = [{{ status = 200 }}]\n\n'
            f'[[test]]\nname = "hours"\nkind = "http"\ntags = ["smoke"]\n'
            f'request = {{ url = "{url}/hours" }}\nchecks = [{{ status = 200 }}]\n\n'
            f'[[test]]\nname = "sunday"\nkind = "http"\nrequest = {{ url = "{url}/hours" }}\n'
            'checks = [{ jsonpath = "$.sunday", equals = "open" }]\n'
        )  # fmt: skip
        yield path


def test_run_wait_junit_fail_under_and_the_commands_on_runs(
    run_cli: CliRunner, suite: Path, tmp_path: Path
) -> None:
    assert run_cli("import", str(suite)).returncode == 0
    junit = tmp_path / "out.xml"
    waited = run_cli("run", "--all", "--junit", str(junit), timeout=120)
    assert waited.returncode == 1, waited.stdout + waited.stderr
    assert "batch 1 queued: 3 runs" in waited.stdout and "sunday" in waited.stdout
    xmlschema.XMLSchema(JUNIT_XSD).validate(ET.parse(junit))
    assert ET.parse(junit).getroot().get("failures") == "1"
    # The mean score is 66.67: it clears 60 and not 70.
    assert run_cli("run", "--all", "--fail-under", "60", timeout=120).returncode == 0
    assert run_cli("run", "--all", "--fail-under", "70", timeout=120).returncode == 1

    runs = json.loads(run_cli("runs", "--batch", "1", "--json").stdout)["runs"]
    assert [run["test_name"] for run in runs] == ["sunday", "hours", "health"]
    failed = json.loads(run_cli("runs", "--status", "failed", "--json").stdout)["runs"]
    assert {run["batch_id"] for run in failed} == {1, 2, 3}
    shown = run_cli("show", str(failed[-1]["id"]))
    assert "jsonpath" in shown.stdout and "expected" in shown.stdout and "failed" in shown.stdout

    report = run_cli("report", "1")
    assert "score distribution" in report.stdout and "slowest runs" in report.stdout
    assert json.loads(run_cli("report", "1", "--json").stdout)["total_failures"] == 1

    exported = tmp_path / "runs.csv"
    assert run_cli("export", "--batch", "1", "--format", "csv", "-o", str(exported)).returncode == 0
    assert sorted(row["status"] for row in csv.DictReader(exported.open())) == ["failed", "passed", "passed"]

    retried = run_cli("retry", "--batch", "1", "--failed")
    assert retried.returncode == 0 and "batch 4 queued: 1 run (retry of batch 1 (failed))" in retried.stdout
    assert run_cli("retry", "--failed").returncode == 2


def test_pause_status_cancel_resume(run_cli: CliRunner, suite: Path) -> None:
    assert run_cli("import", str(suite)).returncode == 0
    assert run_cli("pause").stdout.startswith("paused")
    assert run_cli("run", "--tag", "smoke", "--repeat", "5").stdout.startswith("batch 1 queued: 10 runs")
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["paused"] is True and status["queued"] == 10
    assert [batch["id"] for batch in status["active_batches"]] == [1]
    monitor = run_cli("status")
    assert "queued 10" in monitor.stdout and "paused" in monitor.stdout and "active batches" in monitor.stdout
    first_run = json.loads(run_cli("runs", "--json", "--limit", "1").stdout)["runs"][0]["id"]
    assert run_cli("cancel", str(first_run)).stdout.startswith(f"cancelled run {first_run}")
    assert run_cli("cancel", "--batch", "1").stdout.startswith("cancelled 9 runs")
    assert run_cli("cancel", str(first_run)).returncode == 1  # already finished
    assert run_cli("run", "--tag", "smoke").returncode == 0
    assert run_cli("cancel", "--all").stdout.startswith("cancelled 2 runs")
    assert run_cli("resume").stdout.startswith("resumed")
    assert run_cli("cancel").returncode == 2


def test_html_report_trends_and_flaky(run_cli: CliRunner, suite: Path, tmp_path: Path) -> None:
    flip = tmp_path / "flip"
    flaky = tmp_path / "flaky.toml"
    flaky.write_text(
        '[[test]]\nname = "coin"\nkind = "command"\n'
        f"command = \"sh -c 'if [ -e {flip} ]; then rm {flip}; exit 1; else touch {flip}; fi'\"\n"
        "checks = [{ exit_code = 0 }]\n"
    )
    assert run_cli("import", str(suite), str(flaky)).returncode == 0
    for _ in range(2):
        run_cli("run", "--all", "--wait", timeout=120)
    page = tmp_path / "report.html"
    assert run_cli("report", "2", "--html", str(page)).returncode == 0
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "sunday" in html and "coin" in html and "flaky" in html
    trends = {t["name"]: t for t in json.loads(run_cli("trends", "--json").stdout)}
    assert [p["pass_rate"] for p in trends["coin"]["points"]] == [100.0, 0.0]
    assert trends["coin"]["flaky"] is True and trends["health"]["flaky"] is False
    assert [p["pass_rate"] for p in trends["sunday"]["points"]] == [0.0, 0.0]
    table = run_cli("trends", "--flaky").stdout
    assert "coin" in table and "health" not in table
    only_flaky = json.loads(run_cli("trends", "--flaky", "--json").stdout)
    assert [(t["name"], t["flaky_version"]) for t in only_flaky] == [("coin", 1)]
    assert run_cli("prune").returncode == 2  # no limit given and none configured
    pruned = run_cli("prune", "--max-runs", "4")
    assert pruned.stdout.startswith("pruned 1 batch (4 runs), database vacuumed"), pruned.stderr
    assert [b["id"] for b in json.loads(run_cli("runs", "--json").stdout)["runs"]][-1] > 4
