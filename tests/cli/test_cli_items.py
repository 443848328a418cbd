"""Small CLI behaviours through the real CLI and daemon: no TUI without a terminal, uptime, times with a
zone, ``config check`` against the running daemon's settings, one-line HTTP failure reasons."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import CliRunner


def test_no_terminal_means_no_tui(state_dir: Path) -> None:
    env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "callboard.core"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().startswith("callboard: no terminal for the TUI: give a command")
    assert "ssh -t" in result.stderr and result.stdout == ""
    assert not (state_dir / "daemon.pid").exists()  # no daemon started either


def test_daemon_status_shows_uptime(run_cli: CliRunner) -> None:
    assert run_cli("daemon", "--detach").returncode == 0
    status = run_cli("daemon", "status").stdout
    assert re.search(r"^uptime: \d+s \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+\)$", status, re.M), status
    assert "since:" not in status


def test_schedule_times_have_a_zone_and_no_microseconds(run_cli: CliRunner, tmp_path: Path) -> None:
    suite = tmp_path / "one.toml"
    suite.write_text('[[test]]\nname = "t"\nkind = "command"\ncommand = "true"\ntags = ["n"]\n')
    assert run_cli("import", str(suite)).returncode == 0
    added = run_cli("schedule", "add", "nightly", "--cron", "0 2 * * *", "--tag", "n", env={"TZ": "UTC"})
    assert re.search(r"next run \d{4}-\d\d-\d\d 02:00:00 UTC$", added.stdout.strip()), added.stdout
    listed = run_cli("schedule", "list", env={"TZ": "UTC", "COLUMNS": "200"}).stdout
    assert re.search(r"\d{4}-\d\d-\d\d 02:00:00 UTC", listed), listed
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", listed + added.stdout)


def test_config_check_says_when_the_daemon_runs_with_other_settings(run_cli: CliRunner) -> None:
    assert run_cli("daemon", "--detach", env={"CALLBOARD_ENGINE__CONCURRENCY": "8"}).returncode == 0
    same = run_cli("config", "check", env={"CALLBOARD_ENGINE__CONCURRENCY": "8"})
    assert same.returncode == 0 and "the running daemon (pid" in same.stdout
    assert "uses these settings" in same.stdout
    other = run_cli("config", "check")
    assert other.returncode == 0
    assert "started with other settings; it keeps them until restarted" in other.stdout
    assert "engine.concurrency = 8 (here 64)" in other.stdout
    assert "daemon stop && callboard daemon --detach" in other.stdout


class _Broken(BaseHTTPRequestHandler):
    """A server whose every answer is a 503 with a big HTML error page."""

    def do_GET(self) -> None:
        page = "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>"
        page += "<h1>Service Unavailable</h1>" + "<p>The server is overloaded.</p>\n" * 200 + "</body></html>"
        body = page.encode()
        self.send_response(503)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def broken_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_http_failures_are_one_line_reasons(run_cli: CliRunner, tmp_path: Path, broken_server: int) -> None:
    closed = _closed_port()
    suite = tmp_path / "failing.toml"
    suite.write_text(
        f'[[test]]\nname = "overloaded"\nkind = "http"\nretries = 0\n'
        f'request = {{ url = "http://127.0.0.1:{broken_server}/" }}\n'
        f'[[test]]\nname = "nobody-home"\nkind = "http"\nretries = 0\n'
        f'request = {{ url = "http://127.0.0.1:{closed}/" }}\n'
    )
    assert run_cli("import", str(suite)).returncode == 0
    assert run_cli("run", "--all", "--wait", timeout=120).returncode == 1
    report = json.loads(run_cli("report", "1", "--json").stdout)
    why = {failure["test_name"]: failure["message"] for failure in report["failures"]}
    assert why["overloaded"].endswith("the server answered 503: 503 Service Unavailable"), why
    assert why["nobody-home"].endswith(f"cannot connect to 127.0.0.1:{closed}: Connection refused"), why
    assert "ssl:default" not in why["nobody-home"] and "<" not in why["overloaded"]
