"""The TUI with 10,000 tests and 100,000 past runs in a real daemon, driven headless (``run_test``).

    python bench/tui.py [--tests 10000] [--batches 10] [--rate 200] [--seconds 5]

Measures the time to the first screen (the Tests table filled from the daemon), the time to apply a
filter (typed into the filter box, until the table is redrawn), the time to the Simulations screen's
first page of runs, and how the app keeps up with a live stream: ``--rate`` run events a second (a
start and a finish per run, each a new row on top of the runs table) for ``--seconds``, then how long
after the last one it is on screen, and the longest stall of the app's event loop meanwhile.
The past runs are made by queueing every test ``--batches`` times with the queue paused, then
cancelling. The last line is one JSON object: {"bench": "tui", ...}. Targets: first screen < 1 s,
filter < 100 ms, 200 events/s without falling behind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench_support import bench_daemon, fill
from textual.pilot import Pilot
from textual.widgets import Input

from callboard.core.models.events import RunFinished, RunStarted
from callboard.core.models.runs import RunStatus
from callboard.tui.app import CallboardApp
from callboard.tui.messages import RunChanged
from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.widgets.virtual_table import VirtualTable

FILTERS = ["tui-0424", "nightly", "nightly 7", "http", ""]


async def until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 60.0) -> None:
    """Let the app run until ``condition()`` holds, looking every millisecond."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{condition} did not hold within {timeout} s")
        await pilot.pause(0.001)


async def stream(
    app: CallboardApp, sims: SimulationsScreen, rate: int, seconds: float, first_id: int
) -> dict[str, float]:
    """Publish ``rate`` run events a second through the app's feed, as the event worker does."""
    feed = app.context.feed
    stalls: list[float] = []

    async def watch_loop() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - before - 0.01)

    watcher = asyncio.create_task(watch_loop())
    per_tick = max(2, round(rate * 0.05))  # a burst every 50 ms, as the daemon's group commits send them
    total = int(rate * seconds)
    run_id = first_id
    sent = 0
    started = last_sent = time.perf_counter()
    while sent < total:
        for _ in range(per_tick // 2):
            start = RunStarted(run_id=run_id, batch_id=99, test_name=f"tui-{run_id % 10_000:05}", attempt=0)
            finish = RunFinished(
                run_id=run_id,
                batch_id=99,
                test_name=start.test_name,
                status=RunStatus.PASSED,
                score=100,
                duration_ms=12.5,
            )
            feed.publish(partial(RunChanged, start))
            feed.publish(partial(RunChanged, finish))
            run_id += 1
            sent += 2
        last_sent = time.perf_counter()
        if sent < total:
            await asyncio.sleep(max(0.0, started + sent / rate - last_sent))
    last = run_id - 1

    def shown() -> bool:
        view = sims.window.rows.get(last)
        return view is not None and view.status is RunStatus.PASSED

    while not shown():
        await asyncio.sleep(0.001)
    caught_up = time.perf_counter()
    watcher.cancel()
    return {
        "events": sent,
        "events_per_s": sent / (caught_up - started),
        "lag_after_last_ms": (caught_up - last_sent) * 1000,
        "max_loop_stall_ms": max(stalls) * 1000,
        "p99_loop_stall_ms": sorted(stalls)[int(len(stalls) * 0.99)] * 1000,
    }


async def measure(tests: int, batches: int, rate: int, seconds: float, state_dir: Path) -> dict[str, Any]:
    """Fill a daemon, then time the app on it."""
    async with bench_daemon(state_dir, DAEMON__MAX_REQUEST_KB="65536") as client:
        started = time.perf_counter()
        await fill(client, tests, batches)
        fill_s = time.perf_counter() - started
        runs = (await client.list_runs(limit=1)).runs[0].id
        app = CallboardApp(client)
        started = time.perf_counter()
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.screen.query_one("#tests", VirtualTable)
            await until(pilot, lambda: table.row_count == tests)
            await pilot.pause()
            first_screen = time.perf_counter() - started
            box = app.screen.query_one("#filter", Input)
            await pilot.press("slash")
            filter_ms: dict[str, float] = {}
            for query in FILTERS:
                before = time.perf_counter()
                box.value = query
                await pilot.pause()  # the change is handled and the table redrawn
                filter_ms[query or "(cleared)"] = (time.perf_counter() - before) * 1000
            await pilot.press("escape")
            before = time.perf_counter()
            await pilot.press("2")
            sims = app.screen
            assert isinstance(sims, SimulationsScreen)
            await until(pilot, lambda: len(sims.window.rows) == sims.window.page)
            await pilot.pause()
            simulations_s = time.perf_counter() - before
            live = await stream(app, sims, rate, seconds, runs + 1)
    return {
        "tests": tests,
        "runs": runs,
        "fill_s": fill_s,
        "first_screen_ms": first_screen * 1000,
        "filter_ms": filter_ms,
        "filter_max_ms": max(filter_ms.values()),
        "filter_median_ms": statistics.median(filter_ms.values()),
        "simulations_ms": simulations_s * 1000,
        "rate": rate,
        **live,
    }


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(args.tests, args.batches, args.rate, args.seconds, Path(tmp)))
    print(
        f"daemon filled with {figures['tests']:,} tests and {figures['runs']:,} runs "
        f"in {figures['fill_s']:.1f} s"
    )
    print(
        f"{'first screen (tests table filled)':<40}{figures['first_screen_ms']:>9.0f} ms   (target < 1000 ms)"
    )
    for query, elapsed in figures["filter_ms"].items():
        print(f"{f'filter {query!r}':<40}{elapsed:>9.1f} ms   (target < 100 ms)")
    print(f"{'simulations (newest page of runs)':<40}{figures['simulations_ms']:>9.0f} ms")
    print(
        f"{f'live events at {args.rate}/s for {args.seconds:g} s':<40}"
        f"{figures['events_per_s']:>9.0f} /s absorbed"
    )
    print(f"{'  on screen after the last event':<40}{figures['lag_after_last_ms']:>9.0f} ms")
    stall = f"{figures['max_loop_stall_ms']:>9.0f} ms   (p99 {figures['p99_loop_stall_ms']:.0f} ms)"
    print(f"{'  longest event-loop stall':<40}{stall}")
    summary = {key: round(value, 1) if isinstance(value, float) else value for key, value in figures.items()}
    summary["filter_ms"] = {key: round(value, 1) for key, value in figures["filter_ms"].items()}
    print(json.dumps({"bench": "tui", **summary}))


if __name__ == "__main__":
    main()
