"""The daemon's footprint at nightly scale: memory, bytes stored per run, listing cost, idle CPU.

    python bench/footprint.py [--tests 10000] [--batches 10] [--concurrency 64]

A real daemon imports ``--tests`` HTTP tests (each about 1 kB in suite form, like a real suite with
headers, a body and five checks), then runs them ``--batches`` times against the demo agent in its own
process, one batch after the other. Figures:
- the daemon's resident memory after the import and its peak (``VmHWM``) over the whole run;
- bytes stored per run: the database's growth over the batches (checkpointed) divided by the runs;
- ``callboard tests --json`` against ``callboard status --json`` (whole processes, median of 5),
  with every run in place, the ratio being what matters on a noisy machine;
- the daemon's CPU while idle for 5 s after the last batch.
The last line is one JSON object: {"bench": "footprint", ...}. Targets: peak <= 150 MB, <= 500 B/run,
tests --json <= 1.5x status --json, idle CPU near 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_support import bench_daemon, cpu_s

from callboard.core.client import CallboardClient
from callboard.core.demo.process import demo_agent_process
from callboard.core.models.api import BatchRequest
from callboard.core.models.events import BatchFinished


def suite(url: str, count: int) -> list[dict[str, object]]:
    """``count`` http tests of about 1 kB each in suite form."""
    return [
        {
            "name": f"footprint-{index:05}",
            "kind": "http",
            "description": "Asks the clinic agent a question and checks the answer, its shape and its speed.",
            "tags": ["nightly", f"team-{index % 7}", "chat"],
            "request": {
                "method": "POST",
                "url": f"{url}/chat",
                "headers": {"Authorization": "Bearer not-a-secret", "X-Request-Source": "callboard-bench"},
                "json": {"message": "hello, what are your opening hours?", "locale": "en-US", "n": index},
            },
            "checks": [
                {"status": 200},
                {"header": "content-type", "contains": "json"},
                {"jsonpath": "$.reply", "contains": "open"},
                {"jsonpath": "$.session_id", "exists": True},
                {"latency_ms_below": 2000},
            ],
        }
        for index in range(count)
    ]


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def _db_bytes(path: Path) -> int:
    """The database's size once its WAL is folded in (a second connection may checkpoint it)."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        used = (
            conn.execute("PRAGMA page_count").fetchone()[0]
            - conn.execute("PRAGMA freelist_count").fetchone()[0]
        )
    return int(page_size * used)


def _cli_ms(state_dir: Path, *args: str) -> float:
    """Median wall time of ``callboard ARGS`` as a user runs it (a whole process), over 5 runs."""
    env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir)}
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "callboard.core", *args], env=env, check=True, stdout=subprocess.DEVNULL
        )
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _run_batch(client: CallboardClient) -> int:
    after = (await client.queue()).last_event_id
    created = await client.create_batch(BatchRequest(all=True, source="bench"))
    async for event in client.events(last_id=after, types=("batch.finished",), batch_id=created.batch.id):
        if isinstance(event, BatchFinished):
            break
    return (await client.get_batch(created.batch.id)).counts.passed


async def measure(url: str, tests: int, batches: int, concurrency: int, state_dir: Path) -> dict[str, float]:
    """Every figure of the module docstring."""
    settings = {
        "ENGINE__CONCURRENCY": str(concurrency),
        "ENGINE__HTTP_CONNECTIONS": str(concurrency),
        "DAEMON__MAX_REQUEST_KB": "65536",
    }
    async with bench_daemon(state_dir, **settings) as client:
        pid = (await client.health()).pid
        database = state_dir / "callboard.db"
        await client.import_tests(tests=suite(url, tests))
        rss_after_import = _status_kb(pid, "VmRSS") / 1024
        before = _db_bytes(database)
        passed = 0
        started = time.perf_counter()
        for number in range(batches):
            passed += await _run_batch(client)
            print(f"batch {number + 1}/{batches}: rss {_status_kb(pid, 'VmRSS') / 1024:.0f} MB", flush=True)
        elapsed = time.perf_counter() - started
        stored = _db_bytes(database) - before
        cpu_before = cpu_s(pid)
        await asyncio.sleep(5)
        idle_cpu = (cpu_s(pid) - cpu_before) / 5
        tests_ms = await asyncio.to_thread(_cli_ms, state_dir, "tests", "--json")
        status_ms = await asyncio.to_thread(_cli_ms, state_dir, "status", "--json")
        peak = _status_kb(pid, "VmHWM") / 1024
    runs = tests * batches
    return {
        "tests": tests,
        "runs": runs,
        "passed": passed,
        "runs_per_s": round(runs / elapsed, 1),
        "rss_after_import_mb": round(rss_after_import, 1),
        "peak_rss_mb": round(peak, 1),
        "bytes_per_run": round(stored / runs, 1),
        "tests_json_ms": round(tests_ms, 1),
        "status_json_ms": round(status_ms, 1),
        "tests_vs_status": round(tests_ms / status_ms, 2),
        "idle_cpu_share": round(idle_cpu, 4),
    }


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    with demo_agent_process(1.0) as url, tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(url, args.tests, args.batches, args.concurrency, Path(tmp)))
    for key, value in figures.items():
        print(f"{key:<22}{value:>14,}")
    print(json.dumps({"bench": "footprint", **figures}))


if __name__ == "__main__":
    main()
