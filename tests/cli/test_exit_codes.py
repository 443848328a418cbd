"""Exit codes a CI job can trust, through the real CLI and daemon: nothing ran is 5, a paused queue is
said at once, bad output paths and state dirs are one line and exit 2, schedules that select nothing
are refused, ``callboard wait`` follows a queued batch, ``callboard rm`` deletes tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import CliRunner

SUITE = """
[[test]]
name = "says-ok"
kind = "command"
tags = ["smoke"]
command = "python3 -c \\"print('ok')\\""
checks = [{ exit_code = 0 }, { contains = "ok" }]

[[test]]
name = "exits-three"
kind = "command"
tags = ["broken"]
command = "python3 -c \\"import sys; sys.exit(3)\\""
checks = [{ exit_code = 0 }]

[[test]]
name = "no-number-yet"
kind = "call"
tags = ["calls"]
"""


@pytest.fixture
def suite(run_cli: CliRunner, tmp_path: Path) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(SUITE)
    imported = run_cli("import", str(path))
    assert imported.returncode == 0, imported.stderr
    return path


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_a_tag_matching_nothing_exits_5_and_still_writes_junit(
    run_cli: CliRunner, suite: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    result = run_cli("run", "--tag", "smokee", "--wait", "--junit", str(junit))
    assert result.returncode == 5, result.stdout + result.stderr
    assert "nothing ran: no test has tag 'smokee'" in result.stderr
    assert ET.parse(junit).getroot().tag == "testsuites"
    queued_only = run_cli("run", "--tag", "smokee")
    assert queued_only.returncode == 5 and "no test has tag 'smokee'" in queued_only.stderr


def test_run_all_with_no_tests_exits_5(run_cli: CliRunner) -> None:
    result = run_cli("run", "--all", "--wait")
    assert result.returncode == 5
    assert (
        _one_line(result.stderr)
        == "callboard: nothing ran: no test is stored (callboard import FILE… adds some)"
    )


def test_every_run_skipped_exits_5(run_cli: CliRunner, suite: Path) -> None:
    result = run_cli("run", "no-number-yet", "--wait")
    assert result.returncode == 5
    assert "nothing ran: every run of batch 1 was skipped" in result.stderr
    # A batch where something ran keeps its usual statuses.
    assert run_cli("run", "says-ok", "no-number-yet", "--wait").returncode == 0
    assert run_cli("run", "--tag", "broken", "--wait").returncode == 1


def test_a_bad_junit_path_is_refused_before_anything_is_queued(
    run_cli: CliRunner, suite: Path, tmp_path: Path
) -> None:
    for bad in (tmp_path / "missing" / "junit.xml", tmp_path / "suite.toml" / "junit.xml"):
        result = run_cli("run", "--tag", "smoke", "--junit", str(bad))
        assert result.returncode == 2
        assert str(bad) in _one_line(result.stderr)
    batches = run_cli("runs", "--json")
    assert json.loads(batches.stdout)["runs"] == []


def test_bad_output_paths_name_the_path(run_cli: CliRunner, suite: Path, tmp_path: Path) -> None:
    assert run_cli("run", "says-ok", "--wait").returncode == 0
    bad = tmp_path / "nowhere" / "out"
    for args in (
        ("export", "--batch", "1", "-o", str(bad)),
        ("report", "1", "--html", str(bad)),
        ("export-tests", "-o", str(bad)),
    ):
        result = run_cli(*args)
        assert result.returncode == 2, args
        line = _one_line(result.stderr)
        assert str(bad) in line and "does not exist" in line


def test_export_html_writes_the_report(run_cli: CliRunner, suite: Path, tmp_path: Path) -> None:
    assert run_cli("run", "says-ok", "--wait").returncode == 0
    out = tmp_path / "report.html"
    result = run_cli("export", "--batch", "1", "--format", "html", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.lstrip().lower().startswith("<!doctype html") and "says-ok" in text


def test_an_unusable_state_dir_is_one_line(run_cli: CliRunner, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for state in (a_file, a_file / "below"):
        result = run_cli("tests", env={"CALLBOARD_STATE_DIR": str(state)})
        assert result.returncode == 2
        assert f"state dir {state}" in _one_line(result.stderr)


def _cli_process(state_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "callboard.core", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_run_wait_on_a_paused_queue_says_so_at_once(run_cli: CliRunner, suite: Path, state_dir: Path) -> None:
    assert run_cli("pause").returncode == 0
    follower = _cli_process(state_dir, "run", "says-ok", "--wait")
    try:
        assert follower.stderr is not None
        line = follower.stderr.readline()  # printed while the batch still waits
        assert "the queue is paused (callboard resume)" in line
        assert follower.poll() is None
        assert run_cli("resume").returncode == 0
        assert follower.wait(timeout=60) == 0
    finally:
        follower.kill()
        follower.wait()


def test_wait_follows_a_queued_batch_with_run_wait_exit_statuses(
    run_cli: CliRunner, suite: Path, state_dir: Path, tmp_path: Path
) -> None:
    assert run_cli("pause").returncode == 0
    assert run_cli("run", "says-ok").stdout.startswith("batch 1 queued")
    follower = _cli_process(state_dir, "wait", "1", "--junit", str(tmp_path / "wait.xml"))
    try:
        assert follower.stderr is not None
        assert "the queue is paused" in follower.stderr.readline()
        assert run_cli("resume").returncode == 0
        out, _ = follower.communicate(timeout=60)
        assert follower.returncode == 0
        assert "batch 1" in out and "1 │" in out
    finally:
        follower.kill()
        follower.wait()
    assert (tmp_path / "wait.xml").exists()
    assert run_cli("run", "--tag", "broken").returncode == 0
    assert run_cli("wait", "2").returncode == 1
    run_cli("run", "no-number-yet")
    assert run_cli("wait", "3").returncode == 5
    missing = run_cli("wait", "99")
    assert missing.returncode != 0 and "99" in _one_line(missing.stderr)


def test_schedules_that_select_nothing_are_refused(run_cli: CliRunner, suite: Path) -> None:
    bad = run_cli("schedule", "add", "nightly", "--cron", "0 2 * * *", "--tag", "smokee", "--test", "ghost")
    assert bad.returncode == 2
    assert "no test matches tag 'smokee', test 'ghost'" in _one_line(bad.stderr)
    good = run_cli("schedule", "add", "nightly", "--cron", "0 2 * * *", "--tag", "smoke")
    assert good.returncode == 0, good.stderr
    assert run_cli("rm", "says-ok", "--yes").returncode == 0
    now = run_cli("schedule", "run-now", "nightly")
    assert now.returncode == 1
    assert "schedule 'nightly' selects no test: no test matches tag 'smoke'" in _one_line(now.stderr)


def _names(run_cli: CliRunner) -> list[str]:
    return [row["name"] for row in json.loads(run_cli("tests", "--json").stdout)]


def test_rm_asks_first_unless_yes(run_cli: CliRunner, suite: Path, state_dir: Path) -> None:
    def rm(*args: str, answer: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir)}
        return subprocess.run(
            [sys.executable, "-m", "callboard.core", "rm", *args],
            input=answer, capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip

    refused = rm("says-ok", answer="n\n")
    assert refused.returncode == 1 and "delete 1 test: says-ok?" in refused.stderr
    assert "says-ok" in _names(run_cli)
    unknown = run_cli("rm", "ghost", "--tag", "nope", "--yes")
    assert unknown.returncode == 2 and "ghost, tag 'nope'" in _one_line(unknown.stderr)
    assert rm("--tag", "broken", answer="y\n").returncode == 0
    assert _names(run_cli) == ["no-number-yet", "says-ok"]
    assert run_cli("rm", "says-ok", "no-number-yet", "--yes").stdout.startswith("deleted 2 tests")
    assert _names(run_cli) == []
