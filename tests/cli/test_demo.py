"""``callboard demo`` without a terminal: starts a demo daemon with the demo agent and the simulator
tied to it, imports the examples and runs them all, phone calls and voice tests included; stopping (or
killing) the demo daemon stops its helpers; a port taken by a foreign server is reported and never
tested."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import CliRunner

# Every example passes but the Playwright one (it needs a Playwright project); one has no number.
ALL_BUT_PLAYWRIGHT = re.compile(r"│\s+20 │\s+18 │\s+1 │\s+0 │\s+0 │\s+1 │")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its parent) has gone too.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
            return False
    return True


def _gone(pids: list[int], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _helper_pids(stderr: str) -> list[int]:
    return [
        int(pid)
        for pid in re.findall(r"started the (?:demo agent|telephony simulator) .*\(pid (\d+)\)", stderr)
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _demo_cli(state_dir: Path) -> tuple[str, ...]:
    demo = state_dir / "demo"
    return ("--config", str(demo / "demo.toml"), "--state-dir", str(demo))


def test_demo_runs_every_example_and_its_helpers_end_with_its_daemon(
    run_cli: CliRunner, state_dir: Path
) -> None:
    result = run_cli("demo", timeout=240)
    helpers = _helper_pids(result.stderr)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(helpers) == 2, result.stderr
        assert "imported 20 example tests" in result.stderr
        assert "skipped no-number-yet: no phone number" in result.stdout
        assert ALL_BUT_PLAYWRIGHT.search(result.stdout), result.stdout
        assert "login-e2e" in result.stdout
        assert (state_dir / "demo" / "callboard.db").exists()
        assert not (state_dir / "callboard.db").exists()  # the user's own data is left alone

        again = run_cli("demo", timeout=240)
        assert again.returncode == 0 and "reusing the demo daemon" in again.stderr
        assert _helper_pids(again.stderr) == []

        stopped = run_cli(*_demo_cli(state_dir), "daemon", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert _gone(helpers), "a demo helper outlived the demo daemon"
    finally:
        for pid in helpers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class _Foreign(BaseHTTPRequestHandler):
    """Any other server that happens to answer like a health check."""

    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def foreign_server() -> Iterator[tuple[int, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Foreign)
    _Foreign.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Foreign.hits
    finally:
        server.shutdown()
        server.server_close()


def test_a_foreign_server_on_the_agent_port_is_reported_and_never_tested(
    run_cli: CliRunner, state_dir: Path, foreign_server: tuple[int, list[str]]
) -> None:
    port, hits = foreign_server
    result = run_cli(
        "demo", "--headless", "--agent-port", str(port), "--simulator-port", str(_free_port()), timeout=240
    )
    helpers = _helper_pids(result.stderr)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"port {port} is taken by something that is not callboard's demo agent" in result.stderr
        assert ALL_BUT_PLAYWRIGHT.search(result.stdout), result.stdout
        # Only the demo's identity probe reached the foreign server: no example ran against it.
        assert set(hits) <= {"/health"}, hits

        daemon_pid = int((state_dir / "demo" / "daemon.pid").read_text())
        os.kill(daemon_pid, signal.SIGKILL)  # a crash, not a clean stop
        assert _gone(helpers), "a demo helper outlived the killed demo daemon"
    finally:
        for pid in helpers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_helpers_on_a_busy_port_are_one_line_and_exit_2(
    run_cli: CliRunner, foreign_server: tuple[int, list[str]]
) -> None:
    port, _ = foreign_server
    for command, name in (("demo-agent", "demo agent"), ("simulator", "telephony simulator")):
        result = run_cli(command, "--port", str(port))
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"callboard: the {name} cannot listen on 127.0.0.1:{port}: "
            "the port is in use (--port picks another)"
        )
