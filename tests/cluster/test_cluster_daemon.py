"""Daemons and `callboard worker`s on one PostgreSQL store, as real processes driven through the real CLI:
a batch queued on a daemon without a worker runs on two workers; cancel and pause from a daemon reach the
workers; an unreachable store is a fault the daemon outlives; the scheduler runs in one daemon and moves
when it dies; two daemons serve the same events, and a stream resumes on either."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callboard.core.client import CallboardClient
from callboard.core.config import Settings
from callboard.core.models.events import BatchFinished, BatchProgress, EventBase, RunFinished
from callboard.core.paths import DaemonPaths
from tests.cluster.cluster_processes import Processes, rows, suite, until
from tests.conftest import CliRunner
from tests.pg_server import PostgresServer


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


def _daemon_log(state_dir: Path) -> str:
    return "".join(path.read_text() for path in (state_dir / "logs").glob("daemon.log*"))


def _database(pg_url: str) -> str:
    return pg_url.rsplit("/", 1)[1].split("?")[0]


async def test_a_store_that_cannot_be_reached_is_a_fault_and_the_daemon_outlives_it(
    run_cli: CliRunner,
    processes: Processes,
    pg_url: str,
    pg_server: PostgresServer,
    state_dir: Path,
    tmp_path: Path,
) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    daemon = processes.daemon(run_cli, state_dir, "--no-worker")
    database = _database(pg_url)
    # The server refuses this database's connections and ends the ones it has: for the daemon, an outage.
    pg_server.psql(f"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS false")
    pg_server.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    try:
        deadline = time.monotonic() + 60
        while "UNAVAILABLE" not in (shown := run_cli("daemon", "status", env=env)).stdout:
            assert time.monotonic() < deadline, shown.stdout + shown.stderr
            time.sleep(0.2)
        assert shown.returncode == 0  # it runs, and says its store cannot be used
        queued = run_cli("run", "--all", env=env)
        assert queued.returncode != 0 and "Traceback" not in queued.stderr
    finally:
        pg_server.psql(f"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS true")
    deadline = time.monotonic() + 60
    while "UNAVAILABLE" in (shown := run_cli("daemon", "status", env=env)).stdout:
        assert time.monotonic() < deadline, "the fault did not end with the outage"
        time.sleep(0.2)
    assert daemon.poll() is None
    # Back in business: a batch queued through it runs on a worker to the end.
    assert run_cli("import", suite(tmp_path, 2, "true"), env=env).returncode == 0
    processes.worker(state_dir)
    ran = run_cli("run", "--all", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    await until(pg_url, "SELECT count(*) = 2 AND bool_and(status = 'passed') FROM runs")


async def test_the_scheduler_runs_in_one_daemon_and_moves_when_it_dies(
    run_cli: CliRunner, processes: Processes, pg_url: str, state_dir: Path, tmp_path: Path
) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    state_b = tmp_path / "state-b"
    daemons = {
        state_dir: processes.daemon(run_cli, state_dir, "--no-worker"),
        state_b: processes.daemon(run_cli, state_b, "--no-worker"),
    }
    processes.worker(state_dir)
    assert run_cli("import", suite(tmp_path, 1, "true"), env=env).returncode == 0
    # Made through daemon B, whichever daemon holds the scheduler's role.
    added = run_cli(
        "schedule", "add", "tick", "--every", "2s", "--all", env={**env, "CALLBOARD_STATE_DIR": str(state_b)}
    )
    assert added.returncode == 0, added.stdout + added.stderr
    fired = "SELECT count(*) FROM schedule_fires WHERE outcome = 'fired'"
    await until(pg_url, f"{fired.replace('count(*)', 'count(*) >= 2')}", timeout_s=60)
    holders = [
        folder for folder in daemons if "singleton scheduler: this process holds" in _daemon_log(folder)
    ]
    assert len(holders) == 1
    [holder] = holders
    [other] = [folder for folder in daemons if folder != holder]
    daemons[holder].kill()  # kill -9: its session ends, and with it the advisory lock
    daemons[holder].wait()
    [[before]] = await rows(pg_url, fired)
    await until(pg_url, f"{fired.replace('count(*)', f'count(*) >= {int(before) + 2}')}", timeout_s=60)
    assert "singleton scheduler: this process holds" in _daemon_log(other)
    daemons[other].terminate()  # nothing in flight while the fires are counted
    daemons[other].wait(timeout=60)
    # Every slot fired once, each with a batch of its own (a slot recorded just before the kill may have
    # none: its daemon died before queueing it).
    [[fires, with_batch, distinct]] = await rows(
        pg_url,
        "SELECT count(*), count(batch_id), count(DISTINCT batch_id) FROM schedule_fires"
        " WHERE outcome = 'fired'",
    )
    [[batches]] = await rows(pg_url, "SELECT count(*) FROM batches WHERE schedule_id IS NOT NULL")
    assert with_batch == distinct == batches
    assert int(fires) - int(with_batch) <= 1


async def test_run_all_wait_on_a_daemon_without_a_worker_is_run_by_two_workers(
    run_cli: CliRunner, processes: Processes, pg_url: str, state_dir: Path, tmp_path: Path
) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    processes.daemon(run_cli, state_dir, "--no-worker")
    assert run_cli("import", suite(tmp_path, 8, "sleep 0.5"), env=env).returncode == 0
    workers = [processes.worker(state_dir, "--concurrency", "2") for _ in range(2)]
    await until(pg_url, "SELECT count(*) = 2 FROM workers")
    ran = run_cli("run", "--all", "--wait", env=env, timeout=180)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "batch 1 queued: 8 runs" in ran.stdout
    assert await rows(pg_url, "SELECT status, attempt, count(*) FROM runs GROUP BY 1, 2") == [
        ("passed", 1, 8)
    ]
    # Both workers ran some of it (a claim takes at most a worker's two free slots); the daemon none.
    owners = await rows(pg_url, "SELECT DISTINCT payload->>'owner' FROM events WHERE kind = 'run_started'")
    assert sorted(int(str(owner).split(":")[1]) for (owner,) in owners) == sorted(w.pid for w in workers)
    # --wait ended on the batch's finish event, written with the finish itself.
    assert await rows(pg_url, "SELECT status FROM batches") == [("finished",)]


async def _events_until_finished(
    socket: Path, batch_id: int | None, last_id: int | None, limit_s: float = 120
) -> list[EventBase]:
    """The events of a daemon's stream (after ``last_id``) up to the finish of ``batch_id``."""
    seen: list[EventBase] = []
    async with CallboardClient(socket) as client:
        async with asyncio.timeout(limit_s):
            async for event in client.events(last_id=last_id, reconnect=False):
                seen.append(event)
                if isinstance(event, BatchFinished) and event.batch_id == batch_id:
                    break
    return seen


def _socket(state_dir: Path) -> Path:
    return DaemonPaths.of(Settings(state_dir=state_dir)).socket


async def test_two_daemons_serve_the_same_events_and_a_stream_resumes_on_the_other(
    run_cli: CliRunner, processes: Processes, pg_url: str, state_dir: Path, tmp_path: Path
) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    state_b = tmp_path / "state-b"
    processes.daemon(run_cli, state_dir, "--no-worker")
    processes.daemon(run_cli, state_b, "--no-worker")
    assert run_cli("import", suite(tmp_path, 3, "true"), env=env).returncode == 0
    processes.worker(state_dir)
    [[batch_id]] = await rows(pg_url, "SELECT COALESCE(max(id), 0) + 1 FROM batches")
    # Both streams start from the same point before the batch is queued through daemon A, however soon
    # they connect.
    [[start]] = await rows(pg_url, "SELECT COALESCE(max(id), 0) FROM events")
    on_a = asyncio.create_task(_events_until_finished(_socket(state_dir), int(batch_id), int(start)))
    on_b = asyncio.create_task(_events_until_finished(_socket(state_b), int(batch_id), int(start)))
    queued = run_cli("run", "--all", env=env)
    assert queued.returncode == 0, queued.stdout + queued.stderr
    seen_a, seen_b = await on_a, await on_b

    def shape(events: list[EventBase]) -> list[tuple[int, str, int | None]]:
        return [(e.id, str(getattr(e, "type", "")), getattr(e, "run_id", None)) for e in events]

    def stored(events: list[EventBase]) -> list[tuple[int, str, int | None]]:
        """The events of outbox rows. (batch.progress is a summary each daemon makes as it reads, at most
        every progress_interval_s, so how many there are depends on the reader's pace; each carries the
        id of the last row it covers.)"""
        return [shown for shown in shape(events) if shown[1] != "batch.progress"]

    def final_progress(events: list[EventBase]) -> tuple[int, int, int]:
        last = [e for e in events if isinstance(e, BatchProgress)][-1]
        return last.id, last.done, last.total

    assert stored(seen_a) == stored(seen_b)
    last_finished = [e.id for e in seen_a if isinstance(e, RunFinished)][-1]
    assert final_progress(seen_a) == final_progress(seen_b) == (last_finished, 3, 3)
    types = [type_ for _, type_, _ in stored(seen_a)]
    assert types.count("run.started") == 3 and types.count("run.finished") == 3
    assert types[0] == "runs.queued" and types[-1] == "batch.finished"

    # A client that read up to the first finished run on A resumes on B with that Last-Event-ID: it gets
    # what A sent after it.
    cut = next(event.id for event in seen_a if isinstance(event, RunFinished))
    resumed = await _events_until_finished(_socket(state_b), int(batch_id), cut)
    assert stored(resumed) == stored([event for event in seen_a if event.id > cut])
    assert resumed[-1].model_dump(exclude={"at"}) == seen_a[-1].model_dump(exclude={"at"})


async def _holder_log(folder: Path, role: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while f"singleton {role}: this process holds" not in _daemon_log(folder):
        assert time.monotonic() < deadline, f"{folder} never took the {role} role"
        await asyncio.sleep(0.1)


async def test_a_finished_batch_is_notified_once_and_by_another_daemon_when_the_first_dies(
    run_cli: CliRunner, processes: Processes, pg_url: str, state_dir: Path, tmp_path: Path
) -> None:
    notified = tmp_path / "notified.txt"
    hook = json.dumps([{"command": f"sh -c 'echo $CALLBOARD_BATCH_ID >> {notified}'"}])
    settings = {"CALLBOARD_NOTIFY__COMMANDS": hook, "CALLBOARD_NOTIFY__WHEN": "always"}
    state_b = tmp_path / "state-b"
    daemons = {
        folder: processes.daemon(run_cli, folder, "--no-worker", env=settings)
        for folder in (state_dir, state_b)
    }
    processes.worker(state_dir)
    env = {"CALLBOARD_STORE__URL": pg_url}
    assert run_cli("import", suite(tmp_path, 1, "true"), env=env).returncode == 0

    def lines() -> list[str]:
        return notified.read_text().split() if notified.exists() else []

    async def notified_of(batch_id: int) -> None:
        deadline = time.monotonic() + 60
        while str(batch_id) not in lines():
            assert time.monotonic() < deadline, f"batch {batch_id} was never notified"
            await asyncio.sleep(0.1)

    for batch_id in (1, 2):
        assert run_cli("run", "--all", "--wait", env=env, timeout=120).returncode == 0
        await notified_of(batch_id)
    assert lines() == ["1", "2"]  # each by one daemon only (the other follows the same events)
    [holder] = [
        folder for folder in daemons if "singleton notifications: this process holds" in _daemon_log(folder)
    ]
    [other] = [folder for folder in daemons if folder != holder]
    daemons[holder].kill()
    daemons[holder].wait()
    await _holder_log(other, "notifications")
    ran = run_cli("run", "--all", "--wait", env={**env, "CALLBOARD_STATE_DIR": str(other)}, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    await notified_of(3)
    assert lines() == ["1", "2", "3"]
