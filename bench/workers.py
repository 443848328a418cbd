"""Throughput of ``callboard worker`` processes on PostgreSQL vs the SQLite default, in the same run.

The workload: ``--tests`` HTTP tests (``throughput.suite``: POST /chat, three checks) against the demo
agent in its own process, answering in ``--latency-ms``. A short HTTP test costs little to execute, so
what each run costs beyond it is the queue: on PostgreSQL a worker labels, claims (``FOR UPDATE SKIP
LOCKED`` under a lease), and finishes with fenced writes in group commits, over the network protocol.

- SQLite: a daemon with its in-process engine (the default), the batch queued over its socket and its
  end seen on the event stream, as ``bench/throughput.py`` does.
- PostgreSQL: 1, 2 and 4 real ``callboard worker`` processes on a fresh database each (the server is
  started as the tests start theirs: ``tests/pg_server.py``, fsync off). The batch is created with the
  store's own ``batches.create`` (as a daemon's submit does); the workers are started and registered
  before it, so their start-up is not counted.

The slots are the same in every row: ``--concurrency`` runs at once in all, split evenly between the
workers (``--per-worker``: each worker gets them all, as workers on separate machines would).

runs/s is counted from the store's own times, the first run's start to the last run's finish, the same
way for both stores; "wall" is from the batch's creation until every run was final. Claim latency is the
time of one ``queue.claim`` call inside the workers, measured by a shim that wraps it in each worker
process (``--child``) and writes the times when the worker stops: p50/p99 over the claims that took runs
(idle polls left out). The SQLite engine has no claim (its queue is in memory). "cpu ms/run" is the
workers' own CPU time (all of them) from each one's first claim that took runs to its last claim, per
run: on a machine with few cores, what more workers cost beyond the queue.

    PYTHONPATH=. python bench/workers.py [--tests 2000] [--concurrency 64] [--latency-ms 5]

It prints a table, then one JSON object: {"bench": "workers", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_support import bench_daemon
from psycopg import AsyncConnection
from throughput import suite

from callboard.core.cli.main import cli
from callboard.core.demo.process import demo_agent_process
from callboard.core.models.api import BatchRequest
from callboard.core.models.definitions import parse_test
from callboard.core.models.events import BatchFinished
from callboard.storage.batches_repo import BatchEntry
from callboard.storage.postgres import queue
from callboard.storage.postgres.store import PgStore

WORKER_COUNTS = (1, 2, 4)
_FINAL = ("passed", "failed", "error", "cancelled", "skipped")
# The runs' statuses and their times, on either store (placeholders differ).
_DRAIN = (
    "SELECT count(*), count(*) FILTER (WHERE status = 'passed'), min(started_at), max(finished_at)"
    " FROM runs WHERE batch_id = {mark}"
)


@dataclass
class Row:
    """One line of the table."""

    store: str
    workers: int
    slots: int
    runs: int
    passed: int
    per_s: float
    wall_s: float
    claim_p50_ms: float | None = None
    claim_p99_ms: float | None = None
    claims: int = 0
    cpu_ms_per_run: float | None = None  # the workers' CPU time per run (PostgreSQL rows)


def _child(claims_file: Path, argv: list[str]) -> None:
    """In a worker process: time every ``queue.claim`` call, then run the real ``callboard worker``;
    the times (ms, runs taken, the process's CPU seconds so far) are written to ``claims_file`` when it
    stops."""
    real_claim = queue.claim
    timings: list[tuple[float, int, float]] = []

    async def timed_claim(*args: Any, **kwargs: Any) -> list[queue.Claim]:
        started = time.perf_counter()
        claims = await real_claim(*args, **kwargs)
        timings.append(((time.perf_counter() - started) * 1000, len(claims), time.process_time()))
        return claims

    queue.claim = timed_claim  # the worker calls queue.claim through the module
    atexit.register(lambda: claims_file.write_text(json.dumps(timings)))
    cli(["worker", *argv], prog_name="callboard")


def _per_s(count: int, first: str | None, last: str | None) -> float:
    """runs/s from the first start to the last finish (both stored as ISO text)."""
    if first is None or last is None:
        return 0.0
    span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    return count / span if span > 0 else 0.0


async def sqlite_daemon(agent: str, tests: int, slots: int, state_dir: Path) -> Row:
    """The default: a daemon with its in-process engine and its SQLite file."""
    settings = {
        "ENGINE__CONCURRENCY": str(slots),
        "ENGINE__HTTP_CONNECTIONS": str(slots),
        "DAEMON__MAX_REQUEST_KB": "65536",
    }
    async with bench_daemon(state_dir, **settings) as client:
        await client.import_tests(tests=suite(agent, tests))
        after = (await client.queue()).last_event_id
        started = time.perf_counter()
        created = await client.create_batch(BatchRequest(all=True, source="bench"))
        events = client.events(last_id=after, types=("batch.finished",), batch_id=created.batch.id)
        async for event in events:
            if isinstance(event, BatchFinished):
                break
        wall_s = time.perf_counter() - started
    with sqlite3.connect(state_dir / "callboard.db") as db:
        count, passed, first, last = db.execute(_DRAIN.format(mark="?"), (created.batch.id,)).fetchone()
    return Row("SQLite daemon (in-process)", 0, slots, count, passed, _per_s(count, first, last), wall_s)


def _start_workers(
    count: int, slots: int, url: str, state_dir: Path
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    """``count`` worker processes with ``slots`` each; each writes its claim times beside its log."""
    env = dict(os.environ) | {
        "CALLBOARD_STATE_DIR": str(state_dir),
        "CALLBOARD_STORE__URL": url,
        "CALLBOARD_ENGINE__CONCURRENCY": str(slots),
        "CALLBOARD_ENGINE__HTTP_CONNECTIONS": str(slots),
    }
    started = []
    for index in range(count):
        claims_file = state_dir / f"claims-{index}.json"
        log = (state_dir / f"worker-{index}.log").open("wb")
        command = [sys.executable, __file__, "--child", str(claims_file), "--concurrency", str(slots)]
        started.append((subprocess.Popen(command, env=env, stdout=log, stderr=log), claims_file))
    return started


def _stop_workers(
    workers: list[tuple[subprocess.Popen[bytes], Path]],
) -> tuple[list[tuple[float, int]], float]:
    """SIGTERM each (as systemd would), wait for it, and gather the claim times it wrote; also the CPU
    seconds the workers spent from their first claim that took runs to their last claim (start-up and
    shutdown left out)."""
    timings: list[tuple[float, int]] = []
    cpu_s = 0.0
    for process, _ in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, claims_file in workers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if claims_file.exists():
            written = json.loads(claims_file.read_text())
            timings += [(float(ms), int(taken)) for ms, taken, _ in written]
            busy = [float(cpu) for _, taken, cpu in written if taken > 0]
            if busy:
                cpu_s += float(written[-1][2]) - busy[0]
    return timings, cpu_s


async def _wait_until(
    conn: object, sql: str, params: tuple[object, ...], wanted: int, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        cursor = await conn.execute(sql, params)
        row = await cursor.fetchone()
        if row is not None and row[0] == wanted:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {sql!r} to reach {wanted} (now {row})")
        await asyncio.sleep(0.02)


async def pg_workers(agent: str, tests: int, slots: int, workers: int, url: str, state_dir: Path) -> Row:
    """``workers`` callboard worker processes draining one batch from a fresh database at ``url``."""
    store = await PgStore.open(url)
    try:
        await store.tests.upsert_many([parse_test(test) for test in suite(agent, tests)])
        entries = [BatchEntry(test) for test in await store.tests.list()]
        started_workers = _start_workers(workers, slots, url, state_dir)
        try:
            async with await AsyncConnection.connect(url, autocommit=True) as conn:
                await _wait_until(conn, "SELECT count(*) FROM workers", (), workers, 120)
                started = time.perf_counter()
                created = await store.batches.create("bench", "bench", 0, {"all": True}, entries)
                unfinished = "SELECT count(*) FROM runs WHERE batch_id = %s AND status <> ALL(%s)"
                await _wait_until(conn, unfinished, (created.batch.id, list(_FINAL)), 0, 600)
                wall_s = time.perf_counter() - started
                cursor = await conn.execute(_DRAIN.format(mark="%s"), (created.batch.id,))
                count, passed, first, last = await cursor.fetchone() or (0, 0, None, None)
        finally:
            timings, cpu_s = _stop_workers(started_workers)
    finally:
        await store.close()
    per_s = _per_s(count, first, last)
    taking = [ms for ms, taken in timings if taken > 0]
    cuts = statistics.quantiles(taking, n=100) if len(taking) > 1 else [float("nan")] * 99
    return Row(
        "PostgreSQL callboard worker",
        workers,
        slots * workers,
        count,
        passed,
        per_s,
        wall_s,
        cuts[49],
        cuts[98],
        len(taking),
        cpu_s * 1000 / count if count else None,
    )


def _print(rows: list[Row], tests: int) -> None:
    header = (
        f"{'store':<29}{'workers':>8}{'slots':>7}{'runs/s':>9}{'wall s':>8}{'passed':>12}"
        f"{'claim p50':>11}{'p99 ms':>8}{'claims':>8}{'cpu ms/run':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        claim = (
            f"{row.claim_p50_ms:>11.1f}{row.claim_p99_ms:>8.1f}{row.claims:>8}"
            if row.claim_p50_ms is not None and row.claim_p99_ms is not None
            else f"{'-':>11}{'-':>8}{'-':>8}"
        )
        workers = str(row.workers) if row.workers else "-"
        cpu = f"{row.cpu_ms_per_run:>12.2f}" if row.cpu_ms_per_run is not None else f"{'-':>12}"
        print(
            f"{row.store:<29}{workers:>8}{row.slots:>7}{row.per_s:>9,.0f}{row.wall_s:>8.2f}"
            f"{f'{row.passed}/{tests}':>12}{claim}{cpu}"
        )


async def run(args: argparse.Namespace) -> list[Row]:
    """Every row, SQLite first, in one run against one agent."""
    from tests.pg_server import running_server

    rows = []
    with demo_agent_process(args.latency_ms) as agent, tempfile.TemporaryDirectory() as tmp:
        rows.append(await sqlite_daemon(agent, args.tests, args.concurrency, Path(tmp) / "sqlite"))
        with running_server() as server:
            for workers in WORKER_COUNTS:
                slots = args.concurrency if args.per_worker else max(1, args.concurrency // workers)
                state_dir = Path(tmp) / f"pg-{workers}"
                state_dir.mkdir(mode=0o700)
                url = server.create_database()
                rows.append(await pg_workers(agent, args.tests, slots, workers, url, state_dir))
    return rows


def main() -> None:
    """Parse the options, run every row, print the table and the JSON line."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64, help="runs at once, in all (default 64)")
    parser.add_argument("--per-worker", action="store_true", help="each worker gets --concurrency slots")
    parser.add_argument("--latency-ms", type=float, default=5.0, help="the agent's answer time")
    args = parser.parse_args()
    rows = asyncio.run(run(args))
    _print(rows, args.tests)
    print(
        json.dumps(
            {
                "bench": "workers",
                "tests": args.tests,
                "latency_ms": args.latency_ms,
                "rows": [asdict(row) for row in rows],
            }
        )
    )


if __name__ == "__main__":
    main()
