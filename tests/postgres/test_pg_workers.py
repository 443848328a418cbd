"""`callboard worker` processes sharing one PostgreSQL store, through the real CLI: the daemon queues a
batch (started --no-worker, it runs nothing itself), workers claim and run it to the end; a worker killed
with SIGKILL mid-batch loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

from psycopg import AsyncConnection

from callboard.storage.postgres import notices
from tests.conftest import CliRunner
from tests.postgres.worker_support import start_worker, workers

__all__ = ["workers"]  # the fixture, used by name


def _suite(tmp_path: Path, count: int, seconds: float, command: str | None = None) -> str:
    tests = [
        f'[[test]]\nname = "step-{n:02d}"\nkind = "command"\ncommand = "{command or f"sleep {seconds}"}"\n'
        "checks = [{ exit_code = 0 }]\n"
        for n in range(count)
    ]
    path = tmp_path / "steps.toml"
    path.write_text("\n".join(tests))
    return str(path)


def _queue_batch(run_cli: CliRunner, pg_url: str, suite: str) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    # The daemon only serves the API (--no-worker): the test's workers run the batch.
    for args in (("daemon", "--detach", "--no-worker"), ("import", suite), ("run", "--all")):
        done = run_cli(*args, env=env, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    async with await AsyncConnection.connect(url) as conn:
        return list(await (await conn.execute(sql.encode())).fetchall())


async def _until(url: str, sql: str, timeout_s: float = 120) -> None:
    """Until ``sql`` returns true (polled)."""
    deadline = time.monotonic() + timeout_s
    while not (await _rows(url, sql))[0][0]:
        assert time.monotonic() < deadline, f"still not true: {sql}"
        await asyncio.sleep(0.1)


_ALL_FINAL = "SELECT count(*) > 0 AND bool_and(status NOT IN ('queued', 'running')) FROM runs"


async def test_workers_share_a_batch_to_its_end(
    run_cli: CliRunner, pg_url: str, state_dir: Path, tmp_path: Path, workers: list[subprocess.Popen[str]]
) -> None:
    _queue_batch(run_cli, pg_url, _suite(tmp_path, 12, 0.3))
    for _ in range(3):
        workers.append(start_worker(state_dir, pg_url, "--concurrency", "2"))
    await _until(pg_url, _ALL_FINAL)
    assert await _rows(pg_url, "SELECT status, attempt, count(*) FROM runs GROUP BY 1, 2") == [
        ("passed", 1, 12)
    ]
    owners = await _rows(
        pg_url, "SELECT count(DISTINCT payload->>'owner') FROM events WHERE kind = 'run_started'"
    )
    assert owners[0][0] >= 2  # the batch really was shared
    finished = await _rows(
        pg_url, "SELECT count(*), count(DISTINCT payload->>'run_id') FROM events WHERE kind = 'run_finished'"
    )
    assert finished == [(12, 12)]  # each run finished once
    await _until(pg_url, "SELECT bool_and(status = 'finished') FROM batches", timeout_s=30)  # by the role


async def test_a_killed_worker_loses_nothing_and_doubles_nothing(
    run_cli: CliRunner, pg_url: str, state_dir: Path, tmp_path: Path, workers: list[subprocess.Popen[str]]
) -> None:
    _queue_batch(run_cli, pg_url, _suite(tmp_path, 8, 1.5))
    doomed = start_worker(state_dir, pg_url, "--concurrency", "4", "--lease", "6")
    workers.append(doomed)
    await _until(pg_url, "SELECT count(*) = 4 FROM runs WHERE status = 'running'")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    taken = [
        row[0] for row in await _rows(pg_url, "SELECT id FROM runs WHERE status = 'running' ORDER BY id")
    ]
    workers.append(start_worker(state_dir, pg_url, "--concurrency", "4", "--lease", "6"))
    await _until(pg_url, _ALL_FINAL)
    rows = await _rows(pg_url, "SELECT id, status, attempt FROM runs ORDER BY id")
    assert {status for _, status, _ in rows} == {"passed"}
    # The killed worker's runs were reaped and executed again, the re-execution counted in the attempt.
    assert [run_id for run_id, _, attempt in rows if attempt == 2] == taken
    assert [run_id for run_id, _, attempt in rows if attempt == 1] == [
        r[0] for r in rows if r[0] not in taken
    ]
    finished = await _rows(
        pg_url, "SELECT count(*), count(DISTINCT payload->>'run_id') FROM events WHERE kind = 'run_finished'"
    )
    assert finished == [(8, 8)]


async def test_a_frozen_worker_past_its_lease_changes_nothing_when_it_wakes(
    run_cli: CliRunner, pg_url: str, state_dir: Path, tmp_path: Path, workers: list[subprocess.Popen[str]]
) -> None:
    _queue_batch(run_cli, pg_url, _suite(tmp_path, 3, 4))
    frozen = start_worker(state_dir, pg_url, "--concurrency", "3", "--lease", "6")
    workers.append(frozen)
    await _until(pg_url, "SELECT count(*) = 3 FROM runs WHERE status = 'running'")
    frozen.send_signal(signal.SIGSTOP)
    try:
        workers.append(start_worker(state_dir, pg_url, "--concurrency", "3", "--lease", "6"))
        # The other worker reaps the expired leases and runs all three again, to the end.
        await _until(pg_url, _ALL_FINAL)
    finally:
        frozen.send_signal(signal.SIGCONT)
    # Awake again, the frozen worker's commands end and it tries to write their results: refused.
    await asyncio.sleep(6)
    assert frozen.poll() is None  # it is alive and working, not crashed
    rows = await _rows(pg_url, "SELECT status, attempt, count(*) FROM runs GROUP BY 1, 2")
    assert rows == [("passed", 2, 3)]
    finished = await _rows(pg_url, "SELECT count(*) FROM events WHERE kind = 'run_finished'")
    assert finished == [(3,)]  # only the second worker's results


async def test_a_cancel_reaches_the_worker_running_the_run(
    run_cli: CliRunner, pg_url: str, state_dir: Path, tmp_path: Path, workers: list[subprocess.Popen[str]]
) -> None:
    _queue_batch(run_cli, pg_url, _suite(tmp_path, 1, 60))
    workers.append(start_worker(state_dir, pg_url))
    await _until(pg_url, "SELECT count(*) = 1 FROM runs WHERE status = 'running'")
    [[run_id]] = await _rows(pg_url, "SELECT id FROM runs")
    async with await AsyncConnection.connect(pg_url, autocommit=True) as conn:
        assert await notices.cancel(conn, [run_id]) == notices.Cancelled(cancelled=(), asked=(run_id,))
    # Long before the 60 s command would end, its worker has stopped it and written 'cancelled'.
    await _until(pg_url, "SELECT status = 'cancelled' FROM runs", timeout_s=30)
    assert (await _rows(pg_url, "SELECT error_message FROM runs")) == [("cancelled while running",)]


async def test_a_rate_holds_across_workers(
    run_cli: CliRunner, pg_url: str, state_dir: Path, tmp_path: Path, workers: list[subprocess.Popen[str]]
) -> None:
    starts = tmp_path / "starts.txt"
    count, rate = 12, 2.0
    _queue_batch(run_cli, pg_url, _suite(tmp_path, count, 0, f"sh -c 'date +%s.%N >> {starts}'"))
    limit = {"CALLBOARD_ENGINE__KINDS": json.dumps({"command": {"rate_per_s": rate}})}
    for _ in range(3):
        workers.append(start_worker(state_dir, pg_url, "--concurrency", "4", env=limit))
    await _until(pg_url, _ALL_FINAL)
    assert await _rows(pg_url, "SELECT status, count(*) FROM runs GROUP BY 1") == [("passed", count)]
    times = sorted(float(line) for line in starts.read_text().split())
    assert len(times) == count
    # Twelve workers' slots could start all twelve at once; the shared GCRA slot spaces them 1/rate
    # apart (the default burst, max(1, rate) = 2, lets one go early), so the last starts at least
    # (count - 2) / rate after the first reservation; half a second is left for the first one's spawn.
    assert times[-1] - times[0] >= (count - 2) / rate - 0.5
