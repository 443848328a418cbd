"""Shared fixtures: every test gets its own state dir and never sees the user's config."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg_server import PostgresServer, PostgresUnavailable, start_server

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("CALLBOARD_"):
            monkeypatch.delenv(name)
    # pytest-xdist's workers inherit COLUMNS=80 and LINES=24; commands run by the tests get what a pipe
    # gets, as in a serial run (a test that wants a width sets COLUMNS itself).
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A fresh state dir for this test."""
    path = tmp_path / "state"
    path.mkdir()
    return path


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def stop_daemons(under: Path, timeout_s: float = 20.0) -> None:
    """Stop every daemon whose state dir is under ``under`` (SIGTERM, then SIGKILL)."""
    pids = []
    for pid_file in under.rglob("daemon.pid"):
        try:
            pids.append(int(pid_file.read_text().strip()))
        except (OSError, ValueError):
            continue
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def run_cli(state_dir: Path, tmp_path: Path) -> Iterator[CliRunner]:
    """Run the real ``callboard`` CLI in a subprocess against this test's state dir; the daemons it
    starts are stopped afterwards."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "callboard.core", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=cwd,
        )

    yield run
    stop_daemons(tmp_path)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this test session (one per xdist worker). Without the server
    binaries the PostgreSQL tests skip locally; under CI (which installs them) they fail instead."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return pg_server.create_database()
