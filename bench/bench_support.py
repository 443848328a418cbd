"""Start and stop a real daemon for a benchmark, on a scratch state dir, through the product's own
client code (``start_daemon``)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from callboard.core.client import CallboardClient, start_daemon
from callboard.core.config import load_settings
from callboard.core.models.api import BatchRequest
from callboard.core.paths import DaemonPaths


@asynccontextmanager
async def bench_daemon(state_dir: Path, **settings: str) -> AsyncIterator[CallboardClient]:
    """A daemon on ``state_dir`` with ``CALLBOARD_*`` settings (e.g. ENGINE__CONCURRENCY="64"); yields
    a client and stops the daemon (SIGTERM) on exit."""
    os.environ["CALLBOARD_STATE_DIR"] = str(state_dir)
    for key, value in settings.items():
        os.environ[f"CALLBOARD_{key.upper()}"] = value
    config = load_settings()
    health = await start_daemon(config, [])
    client = CallboardClient(DaemonPaths.of(config).socket, timeout_s=600)
    try:
        yield client
    finally:
        await client.aclose()
        os.kill(health.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(health.pid):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs. The daemon this process started is its child: once it exits it is
    reaped here (a zombie still answers ``kill(pid, 0)``)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:  # not our child (an already running daemon)
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def cpu_s(pid: int, thread: int | None = None) -> float:
    """CPU seconds (user + system) a process has used, or one of its threads (``thread``: its id)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def history_suite(count: int) -> list[dict[str, object]]:
    """``count`` http tests (nothing is sent: every batch is cancelled before it runs)."""
    return [
        {
            "name": f"tui-{index:05}",
            "kind": "http",
            "tags": ["nightly" if index % 10 == 0 else "smoke", f"team-{index % 7}"],
            "request": {"url": f"http://127.0.0.1:9/chat/{index}"},
            "checks": [{"status": 200}],
        }
        for index in range(count)
    ]


async def fill(client: CallboardClient, tests: int, batches: int) -> None:
    """Import the tests and leave ``batches`` × ``tests`` cancelled runs behind."""
    await client.import_tests(tests=history_suite(tests))
    await client.pause()
    for _ in range(batches):
        created = await client.create_batch(BatchRequest(all=True, source="bench"))
        await client.cancel_batch(created.batch.id)
    await client.resume()
