"""Trends and flaky tests at scale: ``GET /v1/trends`` for 10,000 tests × 10 batches of verdicts, and how
the daemon answers other requests meanwhile.

    python bench/trends.py [--tests 10000] [--batches 10] [--rounds 3]

The history is seeded through the daemon (import, then batches queued and cancelled while the queue is
paused), then every run is given a verdict with one SQL UPDATE (about one in seven fails; every test
ends up flaky, the worst case for the payload). Figures, each the median of ``--rounds``:

- ``trends``: the whole answer, 100,000 points, then the client's parse of it;
- ``flaky only``: what the TUI's Tests screen asks for (``?flaky=true&last_batches=1``);
- responsiveness: ``GET /v1/health`` round trips while a full trends request is in flight, against the
  same round trip on an idle daemon (the baseline, same run): the daemon must not stall.

The last line is one JSON object: {"bench": "trends", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from bench_support import bench_daemon, fill

from callboard.core.client import CallboardClient
from callboard.core.models.api import Trends


async def timed(call: Awaitable[object]) -> float:
    """Milliseconds an awaitable takes."""
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


async def health_while(client: CallboardClient, busy: asyncio.Task[object]) -> list[float]:
    """Health round trips, back to back, until ``busy`` is done."""
    latencies: list[float] = []
    while not busy.done():
        latencies.append(await timed(client.health()))
    return latencies


async def measure(tests: int, batches: int, rounds: int, state_dir: Path) -> dict[str, float]:
    """Seed a daemon's history, then time trends and health."""
    async with bench_daemon(state_dir, DAEMON__MAX_REQUEST_KB="65536") as client:
        await fill(client, tests, batches)
        with sqlite3.connect(state_dir / "callboard.db") as conn:
            conn.execute(
                "UPDATE runs SET status = CASE WHEN id % 7 = 0 THEN 'failed' ELSE 'passed' END,"
                " score = CASE WHEN id % 7 = 0 THEN 0 ELSE 100 END"
            )
        idle = [await timed(client.health()) for _ in range(50)]
        full: list[float] = []
        flaky: list[float] = []
        during: list[float] = []
        points = 0
        parse: list[float] = []
        params = {"last_batches": batches}
        for _ in range(rounds):
            # The raw request, so that the health loop in this process is not held up by the parse.
            started = time.perf_counter()
            request = asyncio.create_task(client.request("GET", "/v1/trends", params=params))
            during += await health_while(client, request)
            answer = await request
            full.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            found = Trends.model_validate_json(answer.content)
            parse.append((time.perf_counter() - started) * 1000)
            points = sum(len(test.points) for test in found.tests)
            flaky.append(await timed(client.trends(1, flaky_only=True)))
    return {
        "tests": tests,
        "points": points,
        "trends_ms": statistics.median(full),
        "parse_ms": statistics.median(parse),
        "megabytes": len(answer.content) / 1e6,
        "flaky_only_ms": statistics.median(flaky),
        "health_idle_p50_ms": statistics.median(idle),
        "health_busy_p50_ms": statistics.median(during),
        "health_busy_max_ms": max(during),
        "health_busy_count": len(during),
    }


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(args.tests, args.batches, args.rounds, Path(tmp)))
    print(f"{figures['tests']:,} tests, {figures['points']:,} points")
    print(f"{'trends (all points, daemon answer)':<40}{figures['trends_ms']:>9.0f} ms")
    print(f"{'  parsed by the client':<40}{figures['parse_ms']:>9.0f} ms ({figures['megabytes']:.1f} MB)")
    print(f"{'flaky only (the Tests screen)':<40}{figures['flaky_only_ms']:>9.0f} ms")
    print(f"{'health, idle daemon (baseline)':<40}{figures['health_idle_p50_ms']:>9.1f} ms p50")
    busy = figures["health_busy_p50_ms"]
    ratio = busy / figures["health_idle_p50_ms"]
    print(f"{'health during a trends request':<40}{busy:>9.1f} ms p50 ({ratio:.1f}× idle)")
    print(f"{'  slowest health during trends':<40}{figures['health_busy_max_ms']:>9.0f} ms")
    summary = {key: round(value, 1) if isinstance(value, float) else value for key, value in figures.items()}
    print(json.dumps({"bench": "trends", **summary, "busy_vs_idle": round(ratio, 2)}))


if __name__ == "__main__":
    main()
