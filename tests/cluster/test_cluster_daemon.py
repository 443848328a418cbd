"""Daemons and `callboard worker`s on one PostgreSQL store, as real processes driven through the real CLI:
cancel and pause from a daemon reach the workers that run the tests."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.cluster_processes import Processes, rows, suite, until
from tests.conftest import CliRunner


@pytest.fixture
def processes(pg_url: str, tmp_path: Path) -> Iterator[Processes]:
    """Daemons and workers on this test's database, all stopped afterwards."""
    logs = tmp_path / "process-logs"
    logs.mkdir()
    started = Processes(pg_url, logs)
    try:
        yield started
    finally:
        started.stop_all()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is gone for good, only not reaped yet
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
            return False
    return True


async def test_a_cancel_from_the_cli_stops_the_run_on_another_workers_machine(
    run_cli: CliRunner, processes: Processes, pg_url: str, state_dir: Path, tmp_path: Path
) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    processes.daemon(run_cli, state_dir, "--no-worker")
    pid_file = tmp_path / "command.pid"
    steps = suite(tmp_path, 1, f"sh -c 'echo $$ > {pid_file}; exec sleep 120'")
    assert run_cli("import", steps, env=env).returncode == 0
    processes.worker(state_dir)
    queued = run_cli("run", "--all", env=env)
    assert queued.returncode == 0, queued.stdout + queued.stderr
    await until(pg_url, "SELECT count(*) = 1 FROM runs WHERE status = 'running'")
    [[run_id, owner]] = await rows(pg_url, "SELECT id, lease_owner FROM runs")
    assert owner is not None  # held by the worker, not by the daemon
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.1)
    command_pid = int(pid_file.read_text())

    cancelled = run_cli("cancel", str(run_id), env=env)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    # Long before its two minutes are up the worker has stopped the command and written 'cancelled'.
    await until(pg_url, "SELECT status = 'cancelled' FROM runs", timeout_s=60)
    assert await rows(pg_url, "SELECT error_message, lease_owner FROM runs") == [
        ("cancelled while running", None)
    ]
    deadline = time.monotonic() + 30
    while _alive(command_pid):
        assert time.monotonic() < deadline, f"the command (pid {command_pid}) is still running"
        time.sleep(0.1)
    await until(pg_url, "SELECT bool_and(status = 'finished') FROM batches", timeout_s=60)


async def test_pause_and_resume_from_a_daemon_reach_every_worker(
    run_cli: CliRunner, processes: Processes, pg_url: str, state_dir: Path, tmp_path: Path
) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    processes.daemon(run_cli, state_dir, "--no-worker")
    assert run_cli("import", suite(tmp_path, 6, "true"), env=env).returncode == 0
    for _ in range(2):
        processes.worker(state_dir, "--concurrency", "2")
    await until(pg_url, "SELECT count(*) = 2 FROM workers")
    paused = run_cli("pause", env=env)
    assert paused.returncode == 0, paused.stdout + paused.stderr
    assert await rows(pg_url, "SELECT paused FROM queue_control") == [(True,)]
    queued = run_cli("run", "--all", env=env)
    assert queued.returncode == 0, queued.stdout + queued.stderr
    # Both workers were told at once (a notice); each has since also read the pause in a heartbeat,
    # and neither has claimed anything.
    [[queued_at]] = await rows(pg_url, "SELECT now()")
    await until(pg_url, f"SELECT min(heartbeat_at) > '{queued_at}' FROM workers")
    assert await rows(pg_url, "SELECT status, count(*) FROM runs GROUP BY 1") == [("queued", 6)]
    status = json.loads(run_cli("status", "--json", env=env).stdout)
    assert status["paused"] is True and status["queued"] == 6

    resumed = run_cli("resume", env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    await until(pg_url, "SELECT bool_and(status = 'passed') FROM runs")
    assert await rows(pg_url, "SELECT paused FROM queue_control") == [(False,)]
