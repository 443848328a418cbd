"""Which HTTP client carries callboard's HTTP tests? Compares clients at concurrency 64 against the demo
agent (20 ms latency) running in its own process, and prints req/s for each.

    python bench/http_clients.py [--requests 4000] [--concurrency 64] [--latency-ms 20] [--rounds 3]

The last line is one JSON object: {"bench": "http_clients", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import aiohttp
import httpx

from callboard.core.demo.process import demo_agent_process
from callboard.core.execution.base import Job
from callboard.core.execution.http_client import HttpClientPool
from callboard.core.executors.http import HttpExecutor
from callboard.core.models import parse_test

Send = Callable[[int], Awaitable[None]]


class Figure(NamedTuple):
    """One client's throughput and its own CPU cost."""

    req_s: float
    cpu_us_per_req: float


PAYLOAD = {"message": "hello", "session_id": None}


@contextmanager
def demo_agent(latency_ms: float) -> Iterator[str]:
    """Run the demo agent in a subprocess on a free port; yield its /chat URL."""
    with demo_agent_process(latency_ms) as url:
        yield url + "/chat"


async def drive(send: Send, requests: int, concurrency: int) -> Figure:
    """Send ``requests`` requests from ``concurrency`` workers; return requests per second and the
    client's CPU time per request (which the agent's own limits do not blur)."""
    counter = itertools.count()

    async def worker(index: int) -> None:
        while next(counter) < requests:
            await send(index)

    for index in range(concurrency):  # warm up: open every connection before timing
        await send(index)
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(index) for index in range(concurrency)))
    cpu_us = (time.process_time() - cpu_started) / requests * 1e6
    return Figure(requests / (time.perf_counter() - started), cpu_us)


async def bare_aiohttp(url: str, requests: int, concurrency: int) -> Figure:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(index: int) -> None:
            async with session.post(url, json=PAYLOAD) as response:
                await response.read()

        return await drive(send, requests, concurrency)


async def httpx_clients(url: str, requests: int, concurrency: int, shards: int) -> Figure:
    per_shard = max(1, concurrency // shards)
    limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
    clients = [httpx.AsyncClient(limits=limits) for _ in range(shards)]
    try:

        async def send(index: int) -> None:
            response = await clients[index % shards].post(url, json=PAYLOAD)
            response.read()

        return await drive(send, requests, concurrency)
    finally:
        for client in clients:
            await client.aclose()


async def httpx_over_aiohttp(url: str, requests: int, concurrency: int) -> Figure:
    from httpx_aiohttp import HttpxAiohttpClient

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with HttpxAiohttpClient(limits=limits) as client:

        async def send(index: int) -> None:
            (await client.post(url, json=PAYLOAD)).read()

        return await drive(send, requests, concurrency)


async def callboard_pool(url: str, requests: int, concurrency: int) -> Figure:
    pool = HttpClientPool(max_connections=concurrency)
    try:

        async def send(index: int) -> None:
            (await pool.request("POST", url, json=PAYLOAD, timeout=30)).json()

        return await drive(send, requests, concurrency)
    finally:
        await pool.aclose()


async def http_executor(url: str, requests: int, concurrency: int) -> Figure:
    """The whole http executor (request, transient check, three checks) over the same pool."""
    checks = [{"status": 200}, {"jsonpath": "$.reply", "contains": "help"}, {"latency_ms_below": 800}]
    test = parse_test(
        {
            "name": "greets",
            "kind": "http",
            "request": {"method": "POST", "url": url, "json": PAYLOAD},
            "checks": checks,
        }
    )

    async def no_external_id(external_id: str) -> None:
        return None

    job = Job(run_id=1, attempt=1, test=test, timeout_s=30, record_external_id=no_external_id)
    executor = HttpExecutor(HttpClientPool(max_connections=concurrency))
    try:

        async def send(index: int) -> None:
            outcome = await executor.execute(job)
            assert all(check.passed for check in outcome.checks), outcome.checks

        return await drive(send, requests, concurrency)
    finally:
        await executor.aclose()


async def run_all(url: str, requests: int, concurrency: int, rounds: int) -> dict[str, Figure]:
    """Each client in turn against the same agent, ``rounds`` times interleaved; the median per client."""
    shards = max(1, concurrency // 16)
    variants: dict[str, Callable[[], Awaitable[Figure]]] = {
        "aiohttp": lambda: bare_aiohttp(url, requests, concurrency),
        "httpx_single": lambda: httpx_clients(url, requests, concurrency, shards=1),
        "httpx_sharded_16": lambda: httpx_clients(url, requests, concurrency, shards=shards),
        "httpx_aiohttp_transport": lambda: httpx_over_aiohttp(url, requests, concurrency),
        "callboard_pool": lambda: callboard_pool(url, requests, concurrency),
        "callboard_http_executor": lambda: http_executor(url, requests, concurrency),
    }
    figures: dict[str, list[Figure]] = {name: [] for name in variants}
    for round_number in range(1, rounds + 1):
        for name, variant in variants.items():
            try:
                figure = await variant()
            except ImportError as exc:  # httpx-aiohttp is optional for this comparison
                print(f"{name:>26}: skipped ({exc})")
                continue
            figures[name].append(figure)
            print(f"round {round_number} {_describe(name, figure)}")
    results = {
        name: Figure(*(round(statistics.median(column), 1) for column in zip(*values, strict=True)))
        for name, values in figures.items()
        if values
    }
    for name, figure in results.items():
        print(f"median  {_describe(name, figure)}")
    return results


def _describe(name: str, figure: Figure) -> str:
    return f"{name:>26}: {figure.req_s:8.1f} req/s {figure.cpu_us_per_req:7.0f} µs client CPU/req"


def main() -> None:
    """Parse arguments, run the comparison, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="runs per client; the median is reported")
    args = parser.parse_args()
    with demo_agent(args.latency_ms) as url:
        print(f"{args.requests} POST {url}, concurrency {args.concurrency}, latency {args.latency_ms:g} ms")
        results = asyncio.run(run_all(url, args.requests, args.concurrency, args.rounds))
    ceiling = args.concurrency / (args.latency_ms / 1000.0) if args.latency_ms > 0 else None
    summary = {
        "bench": "http_clients",
        "requests": args.requests,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "rounds": args.rounds,
        "ceiling_req_s": ceiling,
        "req_s": {name: figure.req_s for name, figure in results.items()},
        "client_cpu_us_per_req": {name: figure.cpu_us_per_req for name, figure in results.items()},
        "pool_vs_bare_aiohttp": round(results["callboard_pool"].req_s / results["aiohttp"].req_s, 3),
        "executor_vs_bare_aiohttp": round(
            results["callboard_http_executor"].req_s / results["aiohttp"].req_s, 3
        ),
        "chosen": "callboard_pool (one aiohttp ClientSession)",
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
