"""The daemon process: its socket, its lock, signals, stale sockets, detaching and autostart."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.api.conftest import DaemonProcess, daemon_env, start_daemon_process
from tests.conftest import CliRunner


def test_socket_is_0600_in_a_0700_folder(daemon: DaemonProcess) -> None:
    socket = daemon.paths.socket
    assert stat.S_ISSOCK(socket.stat().st_mode)
    assert stat.S_IMODE(socket.stat().st_mode) == 0o600
    assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700


def test_health_names_the_daemon(daemon: DaemonProcess) -> None:
    with daemon.http() as http:
        health = http.get("/v1/health").json()
    assert health["pid"] == daemon.process.pid
    assert health["socket"] == str(daemon.paths.socket)
    assert health["state_dir"] == str(daemon.state_dir)


def test_one_daemon_per_state_dir(daemon: DaemonProcess) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "callboard.core", "daemon"],
        env=daemon_env(daemon.state_dir),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert "already running" in second.stderr
    with daemon.http() as http:
        assert http.get("/v1/health").json()["pid"] == daemon.process.pid


def test_sigterm_stops_gracefully_and_cleans_up(daemon: DaemonProcess) -> None:
    assert daemon.stop(signal.SIGTERM) == 0
    assert not daemon.paths.socket.exists()
    assert not daemon.paths.pid.exists()
    log = daemon.paths.log.read_text()
    assert "received SIGTERM" in log and "stopped" in log


def test_stale_socket_after_kill_9_is_replaced(tmp_path: Path) -> None:
    first = start_daemon_process(tmp_path / "state")
    first.stop(signal.SIGKILL)
    assert first.paths.socket.exists()  # left behind: nobody cleaned up
    second = start_daemon_process(tmp_path / "state")
    try:
        with second.http() as http:
            assert http.get("/v1/health").json()["pid"] == second.process.pid
    finally:
        second.stop()


def test_refuses_a_socket_path_that_is_not_a_socket(tmp_path: Path) -> None:
    squatter = tmp_path / "sock"
    squatter.write_text("not a socket")
    result = subprocess.run(
        [sys.executable, "-m", "callboard.core", "daemon"],
        env=daemon_env(tmp_path / "state", DAEMON__SOCKET_PATH=str(squatter)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "is not a socket" in result.stderr
    assert squatter.read_text() == "not a socket"


_LOOP_LIBRARY = "/uvloop/loop.cpython"  # uvloop's compiled loop, as the process maps it


def test_the_daemon_runs_on_uvloop_unless_turned_off(daemon: DaemonProcess, tmp_path: Path) -> None:
    # The loop's library is loaded in the daemon's own process (daemon.uvloop defaults to true).
    assert _LOOP_LIBRARY in Path(f"/proc/{daemon.process.pid}/maps").read_text()
    plain = start_daemon_process(tmp_path / "plain", DAEMON__UVLOOP="false")
    try:
        assert _LOOP_LIBRARY not in Path(f"/proc/{plain.process.pid}/maps").read_text()
    finally:
        assert plain.stop() == 0


def test_detach_status_stop(run_cli: CliRunner) -> None:
    started = run_cli("daemon", "--detach")
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("started: pid ")
    pid = int(started.stdout.split("pid ")[1].split(",")[0])
    status = run_cli("daemon", "status")
    assert status.returncode == 0 and f"pid {pid}" in status.stdout
    again = run_cli("daemon", "--detach")
    assert again.returncode == 0 and f"already running: pid {pid}" in again.stdout
    stopped = run_cli("daemon", "stop")
    assert stopped.returncode == 0 and f"stopped daemon {pid}" in stopped.stdout
    assert run_cli("daemon", "status").returncode == 3
    try:
        os.kill(pid, 0)
        raise AssertionError("the daemon is still alive")
    except ProcessLookupError:
        pass


def test_client_commands_autostart_a_daemon_that_outlives_them(run_cli: CliRunner) -> None:
    assert run_cli("daemon", "status").returncode == 3
    listed = run_cli("tests", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    # The command has exited; the daemon it started goes on.
    assert run_cli("daemon", "status").returncode == 0


def test_no_autostart_refuses(run_cli: CliRunner) -> None:
    result = run_cli("--no-autostart", "tests")
    assert result.returncode == 1
    assert "no daemon answers" in result.stderr
    assert run_cli("daemon", "status").returncode == 3


def test_a_daemon_that_cannot_start_says_why(run_cli: CliRunner, state_dir: Path) -> None:
    # A short folder of its own: pytest's temporary paths can be longer than a socket address allows.
    with tempfile.TemporaryDirectory(prefix="cb-", dir="/tmp") as short:
        socket = Path(short) / "missing-dir-file"
        result = run_cli("tests", env={"CALLBOARD_DAEMON__SOCKET_PATH": str(socket)})
        assert result.returncode == 0, result.stderr  # a socket in a folder it may create is fine
        run_cli("daemon", "stop", env={"CALLBOARD_DAEMON__SOCKET_PATH": str(socket)})
    blocked = state_dir / "blocked"
    blocked.write_text("")
    result = run_cli("--state-dir", str(state_dir / "other"), "tests",
                     env={"CALLBOARD_DAEMON__SOCKET_PATH": str(blocked / "x.sock")})  # fmt: skip
    assert result.returncode == 1
    assert "could not start" in result.stderr and "Traceback" not in result.stderr
