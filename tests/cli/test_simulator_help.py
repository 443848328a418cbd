"""``callboard simulator --help`` says what the simulator really does, in plain text."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import CliRunner


def test_simulator_help_says_real_time_by_default_without_markup(run_cli: CliRunner) -> None:
    result = run_cli("simulator", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "[default: 1, real time]" in text
    assert "real time unless --time-scale" in text
    assert "wait in the queue" in text and "--reject-over-cps" in text
    assert "``" not in result.stdout and ":func:" not in result.stdout


def test_the_module_entry_point_says_so_too() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "callboard.core.simulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "real time" in result.stdout and "``" not in result.stdout
