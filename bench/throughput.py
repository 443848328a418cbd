"""End-to-end throughput: callboard running a 4,180-test batch vs a bare asyncio+aiohttp loop.

Both send the same requests with the same checks, at the same concurrency, to the demo agent (20 ms
latency) running in its own process, in the same run. callboard goes through its whole daemon path:
``POST /v1/batches`` over the Unix socket, batch creation in SQLite, the priority queue and limits,
the executor and checks, the group-commit writer (synchronous=FULL, every result durable), and the
batch's end seen on the ``/v1/events`` stream.

    python bench/throughput.py [--tests 4180] [--concurrency 64] [--latency-ms 20]

The last line is one JSON object: {"bench": "throughput", ...}. Targets: ratio >= 0.6 and
callboard >= 1,000 tests/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
from bench_support import bench_daemon

from callboard.core.demo.process import demo_agent_process
from callboard.core.models.api import BatchRequest
from callboard.core.models.events import BatchFinished

PAYLOAD = {"message": "hello"}


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


async def bare_loop(url: str, count: int, concurrency: int) -> tuple[float, int]:
    """The baseline: aiohttp at ``concurrency``, the same three checks done inline."""
    passed = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal passed
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                async with session.post(f"{url}/chat", json=PAYLOAD) as response:
                    body = await response.json()
                latency_ms = (time.perf_counter() - started) * 1000
                if response.status == 200 and "help" in str(body.get("reply")) and latency_ms < 2000:
                    passed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return count / elapsed, passed


async def callboard_batch(
    url: str, count: int, concurrency: int, state_dir: Path
) -> tuple[float, int, float]:
    """callboard's whole daemon path: the batch is queued over the socket and its end is seen on the
    event stream; returns tests/s (request sent → batch.finished received), passed, submit ms."""
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
        return count / elapsed, batch.counts.passed, submit_ms


def main() -> None:
    """Run both, baseline first, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=4180)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    with demo_agent_process(args.latency_ms) as url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bare_loop(url, min(500, args.tests), args.concurrency))  # warm up the agent
        baseline, baseline_passed = asyncio.run(bare_loop(url, args.tests, args.concurrency))
        ours, ours_passed, submit_ms = asyncio.run(
            callboard_batch(url, args.tests, args.concurrency, Path(tmp))
        )
    ratio = ours / baseline
    print(
        f"{'bare asyncio + aiohttp':<28}{baseline:>10,.0f} tests/s  ({baseline_passed}/{args.tests} passed)"
    )
    print(f"{'callboard daemon (durable)':<28}{ours:>10,.0f} tests/s  ({ours_passed}/{args.tests} passed)")
    print(f"{'ratio':<28}{ratio:>10.2f}     (target >= 0.6; callboard target >= 1,000 tests/s)")
    print(f"{'submit (batch + queue)':<28}{submit_ms:>10.1f} ms")
    figures = {
        "bench": "throughput",
        "tests": args.tests,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "baseline_per_s": round(baseline, 1),
        "callboard_per_s": round(ours, 1),
        "ratio": round(ratio, 3),
        "submit_ms": round(submit_ms, 1),
        "passed": ours_passed,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
