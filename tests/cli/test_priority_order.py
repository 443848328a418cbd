"""``--priority`` end to end: the real CLI → the API → the daemon's queue, with one run at a time, so
the order the commands ran in is the queue's order. Priorities add up (batch + test), survive a daemon
restart (the queued runs come back in priority order), and retries and schedules carry their own."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CliRunner

# One run at a time: each command appends its name to a file, so the file is the order runs started in.
ONE_AT_A_TIME = {"CALLBOARD_ENGINE__CONCURRENCY": "1"}
_RECORD = "python3 -c \\\"import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10))\\\""


def _suite(order_file: Path) -> str:
    return "".join(
        f'[[test]]\nname = "{name}"\nkind = "command"\npriority = {own}\n'
        f'command = "{_RECORD} {order_file} {name}"\nchecks = [{{ exit_code = 0 }}]\n\n'
        for name, own in (("low", 0), ("boosted", 3), ("high", 0))
    )


@pytest.fixture
def order_file(run_cli: CliRunner, tmp_path: Path) -> Path:
    """The suite imported, the daemon started with concurrency 1 and paused; the file runs write to."""
    order = tmp_path / "order.txt"
    suite = tmp_path / "suite.toml"
    suite.write_text(_suite(order))
    _ok(run_cli("import", str(suite), env=ONE_AT_A_TIME))
    _ok(run_cli("pause", env=ONE_AT_A_TIME))
    return order


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _batch(run_cli: CliRunner, *args: str) -> str:
    match = re.search(r"batch (\d+) queued", _ok(run_cli(*args, env=ONE_AT_A_TIME)))
    assert match is not None
    return match.group(1)


def _ran(run_cli: CliRunner, order_file: Path, *batches: str) -> list[str]:
    for batch in batches:
        _ok(run_cli("wait", batch, env=ONE_AT_A_TIME, timeout=120))
    return order_file.read_text().split()


def test_the_higher_priority_batch_runs_first(run_cli: CliRunner, order_file: Path) -> None:
    first = _batch(run_cli, "run", "low", "--priority", "-5", "--repeat", "2")
    second = _batch(run_cli, "run", "boosted")  # the test's own priority 3, batch 0
    third = _batch(run_cli, "run", "high", "--priority", "7")
    _ok(run_cli("resume", env=ONE_AT_A_TIME))

    assert _ran(run_cli, order_file, first, second, third) == ["high", "boosted", "low", "low"]


def test_queued_runs_come_back_in_priority_order_after_a_restart(
    run_cli: CliRunner, order_file: Path
) -> None:
    first = _batch(run_cli, "run", "low", "--priority", "-5")
    second = _batch(run_cli, "run", "high", "--priority", "7")
    _ok(run_cli("daemon", "stop", env=ONE_AT_A_TIME))
    assert not order_file.exists()

    _ok(run_cli("resume", env=ONE_AT_A_TIME))  # starts the daemon again; it recovers the queue

    assert _ran(run_cli, order_file, first, second) == ["high", "low"]


def test_retries_and_schedules_carry_their_priority(run_cli: CliRunner, order_file: Path) -> None:
    _ok(run_cli("resume", env=ONE_AT_A_TIME))
    done = _batch(run_cli, "run", "high")
    assert _ran(run_cli, order_file, done) == ["high"]
    order_file.unlink()
    _ok(run_cli("pause", env=ONE_AT_A_TIME))

    low = _batch(run_cli, "run", "low", "--priority", "5")
    retried = _batch(run_cli, "retry", "--batch", done, "--priority", "9")
    _ok(run_cli("schedule", "add", "nightly", "--cron", "0 2 * * *", "--test", "boosted", "--priority", "2",
                env=ONE_AT_A_TIME))  # fmt: skip
    scheduled = _batch(run_cli, "schedule", "run-now", "nightly")  # 2 + the test's own 3 = 5, after low
    _ok(run_cli("resume", env=ONE_AT_A_TIME))

    assert _ran(run_cli, order_file, low, retried, scheduled) == ["high", "low", "boosted"]


def test_a_priority_out_of_range_is_refused_before_anything_is_queued(
    run_cli: CliRunner, order_file: Path
) -> None:
    result = run_cli("run", "low", "--priority", "1001", env=ONE_AT_A_TIME)
    assert result.returncode == 2 and "--priority" in result.stderr
    retry = run_cli("retry", "--batch", "1", "--priority", "-1001", env=ONE_AT_A_TIME)
    assert retry.returncode == 2 and "--priority" in retry.stderr
    assert json.loads(_ok(run_cli("runs", "--json", env=ONE_AT_A_TIME)))["runs"] == []
