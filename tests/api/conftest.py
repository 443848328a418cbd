"""A real daemon in a subprocess, on its real Unix socket, with its own state dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from callboard.core.config import Settings
from callboard.core.demo.process import demo_agent_process
from callboard.core.paths import DaemonPaths

START_TIMEOUT_S = 20.0


@dataclass
class DaemonProcess:
    """A daemon subprocess and how to reach it."""

    state_dir: Path
    process: subprocess.Popen[bytes]
    paths: DaemonPaths
    env: dict[str, str]

    def http(self, timeout: float = 30.0) -> httpx.Client:
        """A plain HTTP client on the socket, for asserting on raw status codes and bodies."""
        return httpx.Client(
            transport=httpx.HTTPTransport(uds=str(self.paths.socket)),
            base_url="http://callboard",
            timeout=timeout,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the daemon and wait for it to exit; returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        """What the daemon printed."""
        return (self.state_dir / "daemon.out").read_text(errors="replace")


def daemon_env(state_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a daemon on ``state_dir`` with ``CALLBOARD_*`` settings (keys upper-cased)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    env["CALLBOARD_STATE_DIR"] = str(state_dir)
    env.update({f"CALLBOARD_{key.upper()}": value for key, value in settings.items()})
    return env


def start_daemon_process(state_dir: Path, **settings: str) -> DaemonProcess:
    """Start ``callboard daemon`` in the foreground as a subprocess and wait until it answers."""
    state_dir.mkdir(parents=True, exist_ok=True)
    env = daemon_env(state_dir, **settings)
    out = open(state_dir / "daemon.out", "ab")  # noqa: SIM115 - the daemon writes it for its whole life
    process = subprocess.Popen(
        [sys.executable, "-m", "callboard.core", "daemon"], stdout=out, stderr=out, env=env
    )
    out.close()
    socket_path = settings.get("DAEMON__SOCKET_PATH")
    daemon_settings = {"socket_path": socket_path} if socket_path else {}
    paths = DaemonPaths.of(Settings(state_dir=state_dir, daemon=daemon_settings))
    daemon = DaemonProcess(state_dir, process, paths, env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"daemon exited with {process.returncode}:\n{daemon.log()}")
        try:
            with daemon.http(timeout=2) as http:
                if http.get("/v1/health").status_code == 200:
                    return daemon
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"daemon did not answer:\n{daemon.log()}")
        time.sleep(0.05)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    """A fresh daemon for this test (event keep-alives every 0.2 s)."""
    process = start_daemon_process(tmp_path / "state", DAEMON__KEEPALIVE_S="0.2")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    """The demo agent on a free port, answering after 5 ms."""
    with demo_agent_process(latency_ms=5) as url:
        yield url


def http_tests(url: str, count: int, tag: str = "api", path: str = "/health") -> list[dict[str, object]]:
    """``count`` passing http tests (in suite form) against the demo agent."""
    return [
        {
            "name": f"{tag}-{index:05d}",
            "kind": "http",
            "tags": [tag],
            "request": {"url": f"{url}{path}"},
            "checks": [{"status": 200}],
        }
        for index in range(count)
    ]


def wait_batch(http: httpx.Client, batch_id: int, timeout_s: float = 60.0) -> dict[str, object]:
    """Poll the batch until it is no longer running; returns it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch: dict[str, object] = http.get(f"/v1/batches/{batch_id}").json()
        if batch["status"] != "running":
            return batch
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} still running after {timeout_s} s")
