"""User data comes out of every command exactly as it went in: names, tags, targets, check expressions,
agent replies, command output, error messages, batch labels and schedule names that look like markup,
emoji codes and a 10 kB line — through the real CLI and a real daemon, with stdout piped (as in CI)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from tests.conftest import CliRunner
from tests.hostile_text import (
    EMOJI,
    GUARD,
    LABEL,
    LONG,
    LONG_LINE,
    NAMES,
    PRINTED,
    REPLY,
    SCHEDULE,
    SLEEPER,
    SLEEPER_TEST,
    SMOKE,
    TAG,
    UNREACHABLE,
    chat_agent,
    suite,
)


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    with chat_agent() as url:
        yield url


def _ok(result: object) -> str:
    stdout, stderr = result.stdout, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr and "MarkupError" not in stderr, stderr
    return str(stdout)


def _suite_file(tmp_path: Path, tests: list[dict[str, object]]) -> Path:
    path = tmp_path / "hostile.toml"
    path.write_text(tomli_w.dumps({"test": tests}), encoding="utf-8")
    return path


def test_every_command_prints_user_data_as_it_is(run_cli: CliRunner, tmp_path: Path, agent_url: str) -> None:
    # Without Twilio settings a call's error names the config file's "[twilio] section".
    call = {"name": "calls [twilio]", "kind": "call", "phone": "+15555550100", "retries": 0}
    imported = run_cli("import", str(_suite_file(tmp_path, [*suite(agent_url), call])))
    out = _ok(imported)
    assert imported.returncode == 0, imported.stderr
    for name in NAMES:
        assert name in out

    ran = run_cli("run", "--all", "--wait", "--label", LABEL, timeout=120)
    out = _ok(ran)
    assert ran.returncode == 1  # some checks fail on purpose
    assert LABEL in out  # the progress bar and the summary's title
    for name in (GUARD, LONG, UNREACHABLE):
        assert name in out  # the failures table
    assert f"does not contain {'[/nope]'!r}" in out
    assert f"does not contain {LONG_LINE!r}" in out  # the whole 10 kB line, on one line

    listed = _ok(run_cli("tests"))
    for name in NAMES:
        assert name in listed
    assert TAG in listed
    assert "http://127.0.0.1:9/[bold]x[/x]" in listed
    assert f"echo '{PRINTED}'" in listed

    runs = _ok(run_cli("runs"))
    for name in NAMES:
        assert name in runs
    listed_runs = json.loads(_ok(run_cli("runs", "--json")))["runs"]
    run_ids = {run["test_name"]: run["id"] for run in listed_runs}

    shown = _ok(run_cli("show", str(run_ids[SMOKE])))
    assert SMOKE in shown
    assert "not_contains='[/INST]'" in shown  # passes, and used to crash `show`
    assert PRINTED in shown  # the command's output, as a check's actual value

    shown = _ok(run_cli("show", str(run_ids[GUARD])))
    assert REPLY in shown  # the transcript
    assert "I'd like to book [/INST]" in shown
    assert "turn 2: contains='[/nope]'" in shown

    shown = _ok(run_cli("show", str(run_ids[LONG])))
    assert f"does not contain {LONG_LINE!r}" in shown

    shown = _ok(run_cli("show", str(run_ids[UNREACHABLE])))
    assert "[bold]x[/x]" in shown  # the target, and the error that names it

    shown = _ok(run_cli("show", str(run_ids[EMOJI])))
    assert EMOJI in shown

    batch = re.search(r"batch (\d+) queued", out)
    assert batch is not None
    report = _ok(run_cli("report", batch[1]))
    assert LABEL in report
    for name in (GUARD, LONG, UNREACHABLE):
        assert name in report
    assert f"does not contain {LONG_LINE!r}" in report
    assert "calls [twilio]" in report and "config file's [twilio] section" in report

    trends = _ok(run_cli("trends"))
    for name in NAMES:
        assert name in trends

    added = run_cli("schedule", "add", SCHEDULE, "--every", "1h", "--tag", TAG)
    assert SCHEDULE in _ok(added), added.stderr
    schedules = _ok(run_cli("schedule", "list"))
    assert SCHEDULE in schedules
    assert f"tag:{TAG}" in schedules


def test_status_shows_a_running_run_by_its_literal_name(run_cli: CliRunner, tmp_path: Path) -> None:
    assert run_cli("import", str(_suite_file(tmp_path, [SLEEPER_TEST]))).returncode == 0
    queued = run_cli("run", SLEEPER, "--label", LABEL)
    assert LABEL in _ok(queued) or queued.returncode == 0
    deadline = time.monotonic() + 30
    status = ""
    while SLEEPER not in status and time.monotonic() < deadline:
        status = _ok(run_cli("status"))
    assert SLEEPER in status
    assert LABEL in status  # the active batch's label
    run_cli("cancel", "--all")
