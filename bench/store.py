"""Store benchmark: durable results committed per second, group commit against one commit per result.

Usage: python bench/store.py [--n 20000] [--per-row-n 2000] [--tick-ms 5] [--max-ops 2000]

Everything runs in a temporary directory with synchronous=FULL (every commit fsynced). Per-row commits
go through the same ResultWriter with max_ops=1 and tick_ms=0 (one transaction per result, the same
statement, connection and pragmas), so the only difference measured is the grouping. Prints a table,
then as the last line one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path

from callboard.core.models import CheckResult, RunResult, RunStatus, StoredTest, parse_test
from callboard.storage import BatchEntry, ResultWriter, Store

TESTS = 10_000
RESULT = RunResult(
    status=RunStatus.PASSED,
    checks=[
        CheckResult(name="status", passed=True, expected=200, actual=200),
        CheckResult(name="reply contains 'help'", passed=True, expected="help", actual="How can I help?"),
        CheckResult(name="latency_ms_below", passed=True, expected=800, actual=21.4),
    ],
    metrics={"latency_ms": 21.4, "bytes": 512.0},
)


def _suite(count: int) -> list:
    return [
        parse_test(
            {
                "name": f"bench-{index:05d}",
                "kind": "http",
                "tags": ["bench", f"group-{index % 10}"],
                "request": {"method": "POST", "url": "http://127.0.0.1:8700/chat", "json": {"message": "hi"}},
                "checks": [{"status": 200}, {"contains": "help"}, {"latency_ms_below": 800}],
            }
        )
        for index in range(count)
    ]


async def _seed(store: Store, tests: list[StoredTest], runs: int) -> list[int]:
    """A batch of ``runs`` queued runs (trials spread over the tests); returns their ids."""
    trials, extra = divmod(runs, len(tests))
    counts = [trials + (1 if index < extra else 0) for index in range(len(tests))]
    entries = [BatchEntry(test, trials=count) for test, count in zip(tests, counts, strict=True) if count]
    created = await store.batches.create("bench", "api", 0, {}, entries)
    return [run.id for run in created.runs]


async def _all(calls: list[Awaitable[bool]]) -> None:
    if not all(await asyncio.gather(*calls)):
        raise SystemExit("a guarded write did not match: the benchmark setup is wrong")


async def _finish_rate(writer: ResultWriter, ids: list[int], workers: int | None = None) -> float:
    """Results per second acknowledged (committed) by ``writer``: all at once, or by ``workers`` loops
    that each wait for their result to be committed before finishing the next (like engine workers)."""
    now = datetime.now(UTC)
    await _all([writer.mark_started(run_id, 1, now) for run_id in ids])
    started = time.perf_counter()
    if workers is None:
        await _all([writer.finish(run_id, 1, RESULT, now, 21.4) for run_id in ids])
    else:
        queue = list(reversed(ids))

        async def worker() -> None:
            while queue:
                await _all([writer.finish(queue.pop(), 1, RESULT, now, 21.4)])

        await asyncio.gather(*(worker() for _ in range(workers)))
    return len(ids) / (time.perf_counter() - started)


async def _batch_create_ms(store: Store, tests: list[StoredTest], repeats: int = 3) -> float:
    """Median time to queue one batch of one run per test."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        await store.batches.create("queue all", "cli", 0, {"all": True}, [BatchEntry(test) for test in tests])
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def main(n: int, per_row_n: int, tick_ms: float, max_ops: int) -> dict[str, float | str]:
    """Run every measurement in a fresh database; the figures by name."""
    with tempfile.TemporaryDirectory(prefix="callboard-bench-") as folder:
        path = Path(folder) / "callboard.db"
        async with await Store.open(path) as store:
            await store.tests.upsert_many(_suite(TESTS))
            tests = await store.tests.list()
            create_ms = await _batch_create_ms(store, tests)

            group_ids = await _seed(store, tests, n)
            c64_ids = await _seed(store, tests, n)
            row_ids = await _seed(store, tests, per_row_n)

            writer = await ResultWriter.start(path, tick_ms=tick_ms, max_ops=max_ops)
            group_rate = await _finish_rate(writer, group_ids)
            c64_rate = await _finish_rate(writer, c64_ids, workers=64)
            await writer.close()

            per_row = await ResultWriter.start(path, tick_ms=0, max_ops=1)
            row_rate = await _finish_rate(per_row, row_ids)
            await per_row.close()

            finished = await store.runs.count(RunStatus.PASSED)
            if finished != 2 * n + per_row_n:
                raise SystemExit(f"expected {2 * n + per_row_n} passed runs, found {finished}")
    return {
        "bench": "store",
        "group_commit_per_s": round(group_rate),
        "group_commit_64_workers_per_s": round(c64_rate),
        "per_row_per_s": round(row_rate),
        "ratio": round(group_rate / row_rate, 1),
        "batch_create_10k_ms": round(create_ms, 1),
    }


def _table(figures: dict[str, float | str], n: int, per_row_n: int, tick_ms: float, max_ops: int) -> str:
    rows = [
        (f"group commit, {n:,} concurrent finish calls", f"{figures['group_commit_per_s']:,} results/s"),
        (
            f"group commit, 64 workers awaiting each ({n:,})",
            f"{figures['group_commit_64_workers_per_s']:,} results/s",
        ),
        (f"one commit per result ({per_row_n:,})", f"{figures['per_row_per_s']:,} results/s"),
        ("group / per-row", f"{figures['ratio']}x"),
        (f"batches.create, {TESTS:,} runs (median of 3)", f"{figures['batch_create_10k_ms']} ms"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"store benchmark (synchronous=FULL, tick {tick_ms} ms, max {max_ops} ops per commit)"]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="results per group-commit measurement")
    parser.add_argument("--per-row-n", type=int, default=2_000, help="results for the per-row measurement")
    parser.add_argument("--tick-ms", type=float, default=5.0)
    parser.add_argument("--max-ops", type=int, default=2000)
    args = parser.parse_args()
    result = asyncio.run(main(args.n, args.per_row_n, args.tick_ms, args.max_ops))
    print(_table(result, args.n, args.per_row_n, args.tick_ms, args.max_ops))
    print(json.dumps(result))
