"""End-to-end throughput: callboard running a 4,180-test batch vs a bare asyncio+aiohttp loop.

Both send the same requests with the same checks, at the same concurrency, to the demo agent (20 ms
latency) running in its own process, in the same run. callboard goes through its whole daemon path:
``POST /v1/batches`` over the Unix socket, batch creation in SQLite, the priority queue and limits,
the executor and checks, the group-commit writer (synchronous=FULL, every result durable), and the
batch's end seen on the ``/v1/events`` stream.

    python bench/throughput.py [--tests 4180] [--concurrency 64] [--latency-ms 20] [--whole-process]
                               [--rounds 3]

With ``--whole-process`` it also measures what a user meets: the real ``callboard run --all --wait``
(a whole CLI process: start-up, imports, queueing, following the batch, the final summary) against the
daemon already running with the tests imported, and the bare loop as a whole process of its own
(``bare_loop.py``), wall time from start to exit for both. This machine's speed drifts by a third from
one minute to the next, so they run in ``--rounds`` rounds (3 unless told), back to back, the order
swapped each round; the ratio is the median of the rounds' ratios, each round's printed too.
Each round also says where the CPU went: the daemon's (and its main thread's, where the engine and the
requests share one core) per run while the CLI ran, the CLI's, and the bare loop process's per request.

The last line is one JSON object: {"bench": "throughput", ...}. Targets: ratio >= 0.6 and
callboard >= 1,000 tests/s on a 2-core machine; whole-process ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from bare_loop import PAYLOAD, bare_loop
from bench_support import bench_daemon, cpu_s

from callboard.core.demo.process import demo_agent_process
from callboard.core.models.api import BatchRequest
from callboard.core.models.events import BatchFinished


def suite(url: str, count: int) -> list[dict]:
    """``count`` http tests: POST /chat, checks on status, a JSONPath and latency."""
    return [
        {
            "name": f"chat-{index:05}",
            "kind": "http",
            "request": {"method": "POST", "url": f"{url}/chat", "json": PAYLOAD},
            "checks": [
                {"status": 200},
                {"jsonpath": "$.reply", "contains": "help"},
                {"latency_ms_below": 2000},
            ],
        }
        for index in range(count)
    ]


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds from starting ``command`` to its exit (it must succeed), and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall_s, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


class Round(NamedTuple):
    """One round of whole processes: wall seconds of the bare loop (asyncio's, uvloop's) and the CLI;
    CPU seconds of the bare loop's process, the CLI's, and the daemon's (all threads, main thread)
    while the CLI ran."""

    bare_s: float
    bare_uvloop_s: float
    cli_s: float
    bare_cpu_s: float
    cli_cpu_s: float
    daemon_cpu_s: float
    daemon_main_cpu_s: float


def _cli_round(cli: list[str], daemon_pid: int) -> tuple[float, float, float, float]:
    """The CLI's wall and CPU seconds, and the daemon's CPU seconds (process, main thread) meanwhile."""
    process, main = cpu_s(daemon_pid), cpu_s(daemon_pid, daemon_pid)
    wall_s, cli_cpu_s = _timed(cli, dict(os.environ))
    return wall_s, cli_cpu_s, cpu_s(daemon_pid) - process, cpu_s(daemon_pid, daemon_pid) - main


def _rounds(count: int, bare: list[str], cli: list[str], daemon_pid: int) -> list[Round]:
    """``count`` rounds, bare loop first in even rounds and the CLI first in odd ones."""
    rounds = []
    for index in range(count):
        if index % 2:
            cli_figures = _cli_round(cli, daemon_pid)
        bare_s, bare_cpu_s = _timed(bare)
        bare_uvloop_s, _ = _timed([*bare, "uvloop"])
        if not index % 2:
            cli_figures = _cli_round(cli, daemon_pid)
        cli_s, cli_cpu_s, daemon_cpu_s, daemon_main_cpu_s = cli_figures
        rounds.append(
            Round(bare_s, bare_uvloop_s, cli_s, bare_cpu_s, cli_cpu_s, daemon_cpu_s, daemon_main_cpu_s)
        )
    return rounds


async def callboard_batch(
    url: str, count: int, concurrency: int, state_dir: Path, rounds: int
) -> tuple[dict[str, float], list[Round]]:
    """callboard's whole daemon path: the batch is queued over the socket and its end is seen on the
    event stream (tests/s from the request sent to batch.finished received, passed, submit ms); with
    ``rounds``, also that many rounds of ``callboard run --all --wait`` as a user runs it against the
    bare loop as a process of its own."""
    settings = {
        "ENGINE__CONCURRENCY": str(concurrency),
        "ENGINE__HTTP_CONNECTIONS": str(concurrency),
        "DAEMON__MAX_REQUEST_KB": "65536",
    }
    async with bench_daemon(state_dir, **settings) as client:
        await client.import_tests(tests=suite(url, count))
        after = (await client.queue()).last_event_id
        started = time.perf_counter()
        created = await client.create_batch(BatchRequest(all=True, source="bench"))
        submit_ms = (time.perf_counter() - started) * 1000
        events = client.events(last_id=after, types=("batch.finished",), batch_id=created.batch.id)
        async for event in events:
            if isinstance(event, BatchFinished):
                break
        elapsed = time.perf_counter() - started
        batch = await client.get_batch(created.batch.id)
        figures = {"per_s": count / elapsed, "passed": batch.counts.passed, "submit_ms": submit_ms}
        bare = [
            sys.executable,
            str(Path(__file__).with_name("bare_loop.py")),
            url,
            str(count),
            str(concurrency),
        ]
        cli = [sys.executable, "-m", "callboard.core", "run", "--all", "--wait"]
        daemon_pid = (await client.health()).pid
        whole = await asyncio.to_thread(_rounds, rounds, bare, cli, daemon_pid)
    return figures, whole


def _report_whole(whole: list[Round], tests: int) -> dict[str, object]:
    """Print each round and the medians; the figures for the JSON line."""
    per_run = 1e6 / tests
    for index, one in enumerate(whole, 1):
        print(
            f"round {index}: bare loop {one.bare_s:.2f} s (on uvloop {one.bare_uvloop_s:.2f} s), "
            f"callboard run --all --wait {one.cli_s:.2f} s, ratio {one.bare_s / one.cli_s:.2f}; "
            f"CPU a run: daemon {one.daemon_cpu_s * per_run:.0f} us (main thread "
            f"{one.daemon_main_cpu_s * per_run:.0f}), bare loop {one.bare_cpu_s * per_run:.0f} us; "
            f"CLI {one.cli_cpu_s:.2f} s"
        )
    whole_ratio = statistics.median(one.bare_s / one.cli_s for one in whole)
    # The daemon runs on uvloop: the same bare loop on uvloop says how much of the gap is the loop.
    uv_ratio = statistics.median(one.bare_uvloop_s / one.cli_s for one in whole)
    print(f"{'whole-process ratio':<28}{whole_ratio:>10.2f}     (median of {len(whole)}; target >= 0.8)")
    print(f"{'  … against uvloop':<28}{uv_ratio:>10.2f}")
    # The daemon's main thread runs the engine and the requests: the run's ceiling is its CPU a run.
    main_us = statistics.median(one.daemon_main_cpu_s * per_run for one in whole)
    bare_us = statistics.median(one.bare_cpu_s * per_run for one in whole)
    print(f"{'daemon main thread CPU':<28}{main_us:>10.0f} us a run (bare loop process: {bare_us:.0f} us)")
    return {
        "bare_wall_s": [round(one.bare_s, 3) for one in whole],
        "bare_uvloop_wall_s": [round(one.bare_uvloop_s, 3) for one in whole],
        "cli_wall_s": [round(one.cli_s, 3) for one in whole],
        "whole_process_ratio": round(whole_ratio, 3),
        "whole_process_ratio_uvloop": round(uv_ratio, 3),
        "daemon_main_cpu_us_per_run": round(main_us),
        "daemon_cpu_us_per_run": round(statistics.median(one.daemon_cpu_s * per_run for one in whole)),
        "bare_cpu_us_per_run": round(bare_us),
        "cli_cpu_s": round(statistics.median(one.cli_cpu_s for one in whole), 3),
    }


def main() -> None:
    """Run both, baseline first, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=4180)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--whole-process", action="store_true", help="also time the real CLI")
    parser.add_argument("--rounds", type=int, default=3, help="whole-process rounds (with --whole-process)")
    args = parser.parse_args()
    rounds = args.rounds if args.whole_process else 0
    with demo_agent_process(args.latency_ms) as url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bare_loop(url, min(500, args.tests), args.concurrency))  # warm up the agent
        baseline, baseline_passed = asyncio.run(bare_loop(url, args.tests, args.concurrency))
        ours, whole = asyncio.run(callboard_batch(url, args.tests, args.concurrency, Path(tmp), rounds))
    ratio = ours["per_s"] / baseline
    print(
        f"{'bare asyncio + aiohttp':<28}{baseline:>10,.0f} tests/s  ({baseline_passed}/{args.tests} passed)"
    )
    passed = int(ours["passed"])
    print(
        f"{'callboard daemon (durable)':<28}{ours['per_s']:>10,.0f} tests/s  ({passed}/{args.tests} passed)"
    )
    print(f"{'ratio':<28}{ratio:>10.2f}     (target >= 0.6; callboard target >= 1,000 tests/s)")
    print(f"{'submit (batch + queue)':<28}{ours['submit_ms']:>10.1f} ms")
    figures = {
        "bench": "throughput",
        "tests": args.tests,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "baseline_per_s": round(baseline, 1),
        "callboard_per_s": round(ours["per_s"], 1),
        "ratio": round(ratio, 3),
        "submit_ms": round(ours["submit_ms"], 1),
        "passed": passed,
    }
    if whole:
        figures |= _report_whole(whole, args.tests)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
