"""Issue 13 §5, through a real daemon: every execution of a run is counted in its ``attempt`` (1 for
the first) — re-executions after kill -9 and retries of transient errors alike — and a test's
``retries`` bounds them: at most ``retries + 1`` executions."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from tests.api.conftest import DaemonProcess, start_daemon_process, wait_batch


def _suite(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suite = folder / "suite.toml"
    suite.write_text(body)
    return suite


def _executions(folder: Path) -> int:
    path = folder / "runs"
    return len(path.read_text().split()) if path.exists() else 0


def _wait_executions(folder: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while _executions(folder) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _executions(folder) == count


def _start_batch(daemon: DaemonProcess, suite: Path) -> int:
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"paths": [str(suite)]}).status_code == 200
        return int(http.post("/v1/batches", json={"all": True}).json()["batch"]["id"])


def _run(state: Path) -> tuple[str, int, str | None]:
    with sqlite3.connect(state / "callboard.db") as db:
        row = db.execute("SELECT status, attempt, error_kind FROM runs").fetchone()
    db.close()
    return row[0], row[1], row[2]


def test_each_re_execution_after_kill_9_is_counted(tmp_path: Path) -> None:
    state, work = tmp_path / "state", tmp_path / "work"
    # Each execution leaves a line; the third one finishes, the others would run for two minutes.
    command = 'echo x >> runs; [ "$(wc -l < runs)" -ge 3 ] || sleep 120'
    suite = _suite(work, f'[[test]]\nname = "c"\nkind = "command"\nretries = 2\ncommand = """{command}"""\n')
    daemon = start_daemon_process(state)
    batch_id = _start_batch(daemon, suite)
    for execution in (1, 2):
        _wait_executions(work, execution)
        daemon.stop(signal.SIGKILL)
        assert _run(state)[:2] == ("running", execution)
        daemon = start_daemon_process(state)
    try:
        with daemon.http() as http:
            wait_batch(http, batch_id)
    finally:
        daemon.stop()
    assert _executions(work) == 3
    assert _run(state) == ("passed", 3, None)


def test_retries_0_means_one_execution_even_across_a_kill(tmp_path: Path) -> None:
    state, work = tmp_path / "state", tmp_path / "work"
    suite = _suite(
        work, '[[test]]\nname = "c"\nkind = "command"\nretries = 0\ncommand = "echo x >> runs; sleep 120"\n'
    )
    daemon = start_daemon_process(state)
    batch_id = _start_batch(daemon, suite)
    _wait_executions(work, 1)
    daemon.stop(signal.SIGKILL)
    daemon = start_daemon_process(state)
    try:
        with daemon.http() as http:
            wait_batch(http, batch_id)
    finally:
        daemon.stop()
    assert _executions(work) == 1
    assert _run(state) == ("error", 1, "interrupted")


def test_retries_of_transient_errors_are_counted(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path / "work",
        '[[test]]\nname = "refused"\nkind = "http"\nretries = 2\nrequest = { url = "http://127.0.0.1:9/" }\n',
    )
    state = tmp_path / "state"
    daemon = start_daemon_process(state, ENGINE__RETRY_BASE_S="0.01", ENGINE__RETRY_MAX_S="0.02")
    try:
        batch_id = _start_batch(daemon, suite)
        with daemon.http() as http:
            wait_batch(http, batch_id)
    finally:
        daemon.stop()
    status, attempt, kind = _run(state)
    assert (status, attempt, kind) == ("error", 3, "connection")
