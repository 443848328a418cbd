"""A real daemon per test with a small, deterministic suite, and helpers to drive the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot

from callboard.core.client import CallboardClient
from callboard.tui.app import CallboardApp
from callboard.tui.context import utc_now
from tests.api.conftest import DaemonProcess, start_daemon_process, wait_batch

# Commands and an unreachable URL: the same results on every machine, no ports that change.
SUITE: list[dict[str, Any]] = [
    {
        "name": "echo-hello",
        "kind": "command",
        "tags": ["smoke"],
        "command": "echo hello",
        "checks": [{"exit_code": 0}, {"contains": "hello"}],
    },
    {
        "name": "echo-wrong",
        "kind": "command",
        "tags": ["smoke", "broken"],
        "command": "echo goodbye",
        "checks": [{"exit_code": 0}, {"contains": "hello"}],
    },
    {
        "name": "exits-two",
        "kind": "command",
        "tags": ["broken"],
        "command": "sh -c 'exit 2'",
        "checks": [{"exit_code": 0}],
    },
    {"name": "no-number-yet", "kind": "call", "tags": ["calls"]},
    {
        "name": "unreachable-api",
        "kind": "http",
        "tags": ["api"],
        "retries": 0,
        "request": {"url": "http://127.0.0.1:9/health"},
        "checks": [{"status": 200}],
    },
    {
        "name": "python-version",
        "kind": "command",
        "tags": ["smoke"],
        "command": "python3 --version",
        "checks": [{"exit_code": 0}, {"regex": "Python 3"}],
    },
]
SLOW_TEST: dict[str, Any] = {
    "name": "sleeps-a-while",
    "kind": "command",
    "tags": ["slow"],
    "command": "sleep 30",
    "timeout_s": 60,
    "checks": [{"exit_code": 0}],
}
SIZE = (120, 36)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    """A fresh daemon holding the suite (ids 1… in name order of import)."""
    process = start_daemon_process(tmp_path / "state", DAEMON__KEEPALIVE_S="0.2")
    try:
        with process.http() as http:
            http.post("/v1/tests/import", json={"tests": [*SUITE, SLOW_TEST]}).raise_for_status()
        yield process
    finally:
        process.stop()


def run_batch(daemon: DaemonProcess, **request: Any) -> dict[str, Any]:
    """Queue a batch over plain HTTP and wait for it to end."""
    with daemon.http() as http:
        created = http.post("/v1/batches", json=request).json()
        return wait_batch(http, created["batch"]["id"])


def newest_moment(daemon: DaemonProcess) -> datetime:
    """Just after the newest run started or finished: a fixed clock that reads every age as "just now"."""
    with daemon.http() as http:
        runs = http.get("/v1/runs", params={"limit": 100}).json()["runs"]
    moments = [run.get("finished_at") or run["queued_at"] for run in runs]
    newest = max(
        (datetime.fromisoformat(moment) for moment in moments), default=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return newest + timedelta(seconds=1)


def make_app(daemon: DaemonProcess, now: datetime | None = None) -> CallboardApp:
    """The app on a new client of ``daemon``; ``now`` fixes its clock."""
    client = CallboardClient(daemon.paths.socket)
    return CallboardApp(client, clock=(lambda: now) if now else utc_now)


async def until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


class Captured:
    """Messages the app handled, for ``run_test(message_hook=...)``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def of(self, kind: type[Message]) -> list[Any]:
        """The captured messages of one kind."""
        return [message for message in self.messages if isinstance(message, kind)]


def notifications(app: CallboardApp) -> list[str]:
    """The toasts shown so far (title and text); Textual keeps them in ``_notifications``."""
    return [f"{note.title}: {note.message}" for note in app._notifications]


def close(app: CallboardApp) -> None:
    """Close the app's client after a snapshot (which ran the app in its own loop)."""
    asyncio.run(app.context.client.aclose())
