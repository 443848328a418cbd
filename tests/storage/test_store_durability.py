"""kill -9 right after results were acknowledged: every acknowledged result is on disk."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from callboard.storage import Store

QueueRuns = Callable[..., Awaitable[list[int]]]
CHILD = Path(__file__).with_name("writer_child.py")


async def test_every_acknowledged_result_survives_sigkill(store: Store, queue_runs: QueueRuns) -> None:
    ids = await queue_runs(count=50, trials=100)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(store.path), str(ids[0]), str(ids[-1])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[int] = []
    try:
        assert child.stdout is not None
        while len(acknowledged) < 1000 and (line := child.stdout.readline()):
            acknowledged.append(int(line))
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        _, stderr = child.communicate(timeout=30)
    assert len(acknowledged) >= 1000, stderr
    assert child.returncode == -signal.SIGKILL

    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        statuses = dict(conn.execute("SELECT id, status FROM runs"))
    finally:
        conn.close()
    assert {statuses[run_id] for run_id in acknowledged} == {"passed"}
    assert set(statuses.values()) <= {"queued", "running", "passed"}
