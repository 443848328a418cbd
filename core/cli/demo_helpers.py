"""The demo's helper processes — the demo agent and the telephony simulator — on ports of their own,
tied to the demo daemon (``--exit-with``): stopping or killing the demo daemon stops them.

A port already taken (by anything: a foreign server, or a callboard helper this demo does not own) is
never used: the demo says so and its helper listens on a free port instead, so the examples never
test somebody else's server.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import click
import httpx

from callboard.core.cli.context import fail
from callboard.core.client.spawn import spawn_detached
from callboard.core.demo.app import SERVICE as AGENT_SERVICE

_START_TIMEOUT_S = 20.0
_PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Helper:
    """One helper: its name, its ``callboard`` subcommand and options, its usual port."""

    name: str
    command: str
    options: tuple[str, ...]
    preferred_port: int
    health_path: str
    # What its health answer has that another server's would not: a key, and its value if it matters.
    marker: tuple[str, str | None]

    def is_ours(self, port: int) -> bool:
        """Whether callboard's own helper of this kind answers on ``port``."""
        try:
            response = httpx.get(
                f"http://127.0.0.1:{port}{self.health_path}", timeout=_PROBE_TIMEOUT_S, trust_env=False
            )
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return False
        if response.status_code != 200 or not isinstance(body, dict):
            return False
        key, value = self.marker
        return key in body and (value is None or body[key] == value)


AGENT = Helper(
    "demo agent", "demo-agent", ("--latency-ms", "20"), 8700, "/health", ("service", AGENT_SERVICE)
)
# One simulated second takes 0.2 real seconds: an example call lasts a few seconds. The simulator's
# admin health route (``/_sim/health``) reports its time scale.
SIMULATOR = Helper(
    "telephony simulator", "simulator", ("--time-scale", "0.2"), 8710, "/_sim/health", ("time_scale", None)
)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        # As the helpers bind: a port left in TIME_WAIT by an earlier helper is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def choose_port(helper: Helper, preferred: int) -> int:
    """``preferred`` when nothing listens there; otherwise say what is in the way and pick a free one."""
    if _bindable(preferred):
        return preferred
    taker = (
        f"a callboard {helper.name} this demo does not own"
        if helper.is_ours(preferred)
        else f"something that is not callboard's {helper.name}"
    )
    port = _free_port()
    click.echo(f"port {preferred} is taken by {taker}; the demo's {helper.name} uses port {port}", err=True)
    return port


def start_helper(helper: Helper, port: int, owner_pid: int, log: Path) -> int:
    """Start ``helper`` on ``port``, tied to process ``owner_pid``; wait until it answers; its pid."""
    args = ["-m", "callboard.core", helper.command, "--port", str(port), *helper.options]
    process = spawn_detached([*args, "--exit-with", str(owner_pid)], log)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not helper.is_ours(port):
        if process.poll() is not None or time.monotonic() > deadline:
            fail(f"the {helper.name} did not start on port {port}: {_last_line(log)} (log: {log})")
        time.sleep(0.05)
    click.echo(f"started the {helper.name} on 127.0.0.1:{port} (pid {process.pid})", err=True)
    return process.pid


def _last_line(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


@dataclass(frozen=True)
class HelperRecord:
    """Which daemon the running helpers belong to and where they listen (``helpers.json``)."""

    daemon_pid: int
    agent_port: int
    simulator_port: int

    def save(self, path: Path) -> None:
        """Write the record."""
        path.write_text(json.dumps(self.__dict__) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> HelperRecord | None:
        """The record, or None when there is none (or it is unreadable)."""
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def helpers_answer(self) -> bool:
        """Both helpers still answer, as callboard's own, on their ports."""
        return AGENT.is_ours(self.agent_port) and SIMULATOR.is_ours(self.simulator_port)
