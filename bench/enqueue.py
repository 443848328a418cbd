"""Queueing latency: ``POST /v1/batches`` for 10,000 tests through a real daemon, on its Unix socket.

    python bench/enqueue.py [--tests 10000] [--runs 7]

The queue is paused, so only queueing is measured: selecting the tests, creating the batch and one
run per test in SQLite (committed, synchronous=FULL), filling the engine's queue and answering 202.
The baseline, in the same run, is ``GET /v1/health`` on the same socket (the transport's floor).
The last line is one JSON object: {"bench": "enqueue", ...}. Target: p50 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench_support import bench_daemon

from callboard.core.models.api import BatchRequest


def suite(count: int) -> list[dict[str, object]]:
    """``count`` http tests, each with its own URL and three checks (nothing is sent: the queue is paused)."""
    return [
        {
            "name": f"enqueue-{index:05}",
            "kind": "http",
            "tags": ["bench"],
            "request": {"method": "POST", "url": f"http://127.0.0.1:9/chat/{index}", "json": {"n": index}},
            "checks": [
                {"status": 200},
                {"jsonpath": "$.reply", "contains": "help"},
                {"latency_ms_below": 2000},
            ],
        }
        for index in range(count)
    ]


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def measure(count: int, runs: int, state_dir: Path) -> dict[str, float]:
    """Median and p95 of queueing ``count`` tests, and of the health round trip."""
    async with bench_daemon(state_dir, DAEMON__MAX_REQUEST_KB="65536") as client:
        await client.import_tests(tests=suite(count))
        await client.pause()
        health: list[float] = []
        for _ in range(50):
            started = time.perf_counter()
            await client.health()
            health.append((time.perf_counter() - started) * 1000)
        enqueue: list[float] = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            created = await client.create_batch(BatchRequest(all=True, source="bench"))
            enqueue.append((time.perf_counter() - started) * 1000)
            assert created.batch.counts.queued == count
            await client.cancel_batch(created.batch.id)
        enqueue = enqueue[1:]  # the first batch also warms the caches of a fresh daemon
    return {
        "health_p50_ms": statistics.median(health),
        "enqueue_p50_ms": statistics.median(enqueue),
        "enqueue_p95_ms": percentile(enqueue, 0.95),
        "enqueue_min_ms": min(enqueue),
        "enqueue_max_ms": max(enqueue),
    }


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(args.tests, args.runs, Path(tmp)))
    print(f"{'GET /v1/health (baseline)':<34}{figures['health_p50_ms']:>8.1f} ms p50")
    print(f"{f'POST /v1/batches, {args.tests:,} tests':<34}{figures['enqueue_p50_ms']:>8.1f} ms p50"
          f"   {figures['enqueue_p95_ms']:.1f} ms p95   (target p50 < 100 ms)")  # fmt: skip
    print(json.dumps({"bench": "enqueue", "tests": args.tests, "runs": args.runs,
                      **{key: round(value, 1) for key, value in figures.items()}}))  # fmt: skip


if __name__ == "__main__":
    main()
