"""The real ``callboard`` in a real terminal (tmux) against a real daemon: run all, confirm, watch the
runs finish, quit — and the daemon goes on."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import CliRunner

SUITE = """
[[test]]
name = "first-check"
kind = "command"
command = "true"
checks = [{ exit_code = 0 }]

[[test]]
name = "second-check"
kind = "command"
command = "python3 --version"
checks = [{ exit_code = 0 }]
"""


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def _screen_until(session: str, text: str, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never showed; the screen was:\n{screen}")


def test_callboard_in_tmux(run_cli: CliRunner, state_dir: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    assert run_cli("import", str(suite)).returncode == 0
    session = f"callboard-e2e-{tmp_path.name}"[:60]
    # Textual believes COLUMNS and LINES over the terminal, and a test runner may have set them.
    state = shlex.quote(str(state_dir))
    command = (
        f"env -u COLUMNS -u LINES CALLBOARD_STATE_DIR={state} {shlex.quote(sys.executable)} -m callboard.core"
    )
    tmux_new = ["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", command]
    subprocess.run(tmux_new, check=True, timeout=10)
    _tmux("set-option", "-t", session, "remain-on-exit", "on")  # a crash's traceback stays on screen
    try:
        _screen_until(session, "second-check")
        _tmux("send-keys", "-t", session, "R")
        _screen_until(session, "2 tests will run")
        _tmux("send-keys", "-t", session, "y")
        _screen_until(session, "queued")
        _tmux("send-keys", "-t", session, "2")
        screen = _screen_until(session, "passed")
        assert "first-check" in screen or "second-check" in screen
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 15
        while _tmux("display-message", "-p", "-t", session, "#{pane_dead}").strip() != "1":
            assert time.monotonic() < deadline, "callboard did not quit"
            time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    # Closing the TUI leaves the daemon (and its results) in place.
    assert run_cli("daemon", "status").returncode == 0
    runs = run_cli("runs", "--status", "passed", "--json")
    assert '"test_name": "second-check"' in runs.stdout


def test_keys_typed_while_the_tui_starts_do_not_land_in_the_filter(
    run_cli: CliRunner, state_dir: Path, tmp_path: Path
) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    assert run_cli("import", str(suite)).returncode == 0  # the daemon is up: the TUI starts at once
    session = f"callboard-keys-{tmp_path.name}"[:60]
    state = shlex.quote(str(state_dir))
    command = (
        f"env -u COLUMNS -u LINES CALLBOARD_STATE_DIR={state} {shlex.quote(sys.executable)} -m callboard.core"
    )
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", command], timeout=10)
    try:
        # An impatient user types during the first second, while the screen is being built.
        for _ in range(10):
            time.sleep(0.1)
            _tmux("send-keys", "-t", session, "e")
        screen = _screen_until(session, "second-check")
        time.sleep(0.5)
        screen = _tmux("capture-pane", "-p", "-t", session)
        assert "filter:" not in screen and "eeee" not in screen
        assert "2 tests · 0 selected" in screen
        _tmux("send-keys", "-t", session, "q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
