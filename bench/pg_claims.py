"""Claim latency and queue throughput on PostgreSQL: 1, 2 and 4 claimers drain a queue of runs, each
claiming ``BATCH`` per round trip and finishing the runs it took with fenced writes in one group commit,
as a worker's Finisher does (no executor: this measures the queue itself, the part workers share).

    PYTHONPATH=. python bench/pg_claims.py [RUNS]      # from the repository root

It starts its own PostgreSQL server (Debian's ``postgresql``, as the tests do) and prints, per number of
claimers: runs/s through claim + finish, and claim latency p50/p99 in ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from psycopg import AsyncConnection

from callboard.core.models import RunResult, RunStatus
from callboard.storage.postgres import leases
from callboard.storage.postgres.migrations import migrate
from callboard.storage.postgres.queue import Limits, claim
from tests.pg_server import running_server

BATCH = 32
PASSED = RunResult(status=RunStatus.PASSED)
NOW = "2026-01-01T00:00:00.000000+00:00"


async def _queue(conn: AsyncConnection, count: int) -> None:
    cursor = await conn.execute(
        "INSERT INTO batches (label, source, created_at) VALUES ('bench', 'bench', %s) RETURNING id", (NOW,)
    )
    row = await cursor.fetchone()
    assert row is not None
    await conn.execute(
        "INSERT INTO runs (batch_id, test_name, test_version, kind, status, queued_at, limit_keys)"
        " SELECT %s, 'bench-' || n, 1, 'http', 'queued', %s, ARRAY['kind:http', 'http://agent']"
        " FROM generate_series(1, %s) AS n",
        (row[0], NOW, count),
    )


async def _drain(url: str, owner: str, limits: Limits, latencies: list[float]) -> int:
    done = 0
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            started = time.perf_counter()
            claims = await claim(conn, owner, BATCH, limits)
            latencies.append((time.perf_counter() - started) * 1000)
            if not claims:
                return done
            await leases.finish_many(conn, [(taken.lease(), PASSED, 1.0) for taken in claims])
            done += len(claims)


async def bench(url: str, runs: int, claimers: int) -> tuple[float, float, float]:
    """(runs/s, claim p50 ms, claim p99 ms) for ``claimers`` draining ``runs`` queued runs."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("TRUNCATE runs, batches CASCADE")
        await _queue(conn, runs)
    limits = Limits(per_key={"http://agent": 64, "kind:http": 1000})
    latencies: list[float] = []
    started = time.perf_counter()
    done = await asyncio.gather(*(_drain(url, f"w{i}", limits, latencies) for i in range(claimers)))
    elapsed = time.perf_counter() - started
    assert sum(done) == runs
    cuts = statistics.quantiles(latencies, n=100)
    return runs / elapsed, cuts[49], cuts[98]


async def main(runs: int) -> None:
    with running_server() as server:
        url = server.create_database()
        async with await AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate(conn)
        for claimers in (1, 2, 4):
            rate, p50, p99 = await bench(url, runs, claimers)
            print(
                f"{claimers} claimer(s): {rate:,.0f} runs/s;"
                f" claim of {BATCH}: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
