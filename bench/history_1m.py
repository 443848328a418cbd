"""A million runs of history: the TUI's first screen, trends, and a retention prune under a real daemon.

    python bench/history_1m.py [--runs 1000000] [--tests 5000] [--prune 100000] [--rounds 3]

The history is built the way the product stores it, only faster than running it: a real daemon makes
the database (callboard's own migrations) and imports ``--tests`` HTTP tests through the API; with the
daemon stopped, ``--runs / --tests`` nightly batches (one a day, oldest first) are inserted with
``executemany`` through the real schema, so the triggers keep ``test_last_runs`` and the runs point at
their test's stored version (``test_versions``). Each run has a finished result as the writer encodes
it (checks stored once per list of labels, metrics, a two-line transcript); about one run in nine
fails, and one test in ten flips between passing and failing (flaky). The suite's checks changed after
the nights the prune removes: those nights' runs name five lists of check labels no later run names,
so the prune leaves them unused for retention to find. Then the daemon is started again on that file
and, each the median of ``--rounds`` (TUI and trends) or once (prune):

- ``GET /v1/health`` polled every 10 ms on an idle daemon: the baseline, same run;
- the TUI's first screen: ``CallboardApp`` headless (``run_test``) until the Tests table holds every
  test, and the call behind its flaky marks (``GET /v1/trends?last_batches=1&flaky=true``);
- ``callboard trends`` as a whole process, and ``GET /v1/trends`` (10 batches) behind it, through the
  client (``CallboardClient.trends``: its models validated, as the TUI reads it) and as bytes only;
- ``callboard prune --max-runs`` removing the oldest ``--prune`` runs, as a whole process, while
  ``GET /v1/health`` is polled every 10 ms over the Unix socket (p50/p99/max, against the baseline).

Targets: first screen < 1 s, trends < 2 s, health p99 < 50 ms during the prune. The machine's load
(1-minute average) is printed as the measuring starts and ends: on a shared machine the figures scale
with it. The last line is one JSON object: {"bench": "history_1m", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_support import bench_daemon, history_suite
from pydantic import TypeAdapter

from callboard.core.client import CallboardClient
from callboard.core.config import load_settings
from callboard.core.models import CheckResult, TranscriptEntry
from callboard.core.paths import DaemonPaths
from callboard.storage.check_labels import encode_checks
from callboard.storage.timestamps import to_text
from callboard.storage.writer import KEEP_LABELS
from callboard.tui.app import CallboardApp
from callboard.tui.widgets.virtual_table import VirtualTable

_TRANSCRIPT = TypeAdapter(list[TranscriptEntry])

_INSERT_RUN = """
INSERT INTO runs (batch_id, test_id, test_name, test_version, kind, target, trial, priority, status,
                  attempt, max_attempts, queued_at, started_at, finished_at, duration_ms, score, checks,
                  metrics, transcript, artifacts, error_kind, error_message, version_id, labels_id)
VALUES (?, ?, ?, ?, 'http', '', 1, 0, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?, '{}', NULL, NULL, ?,
        (SELECT id FROM check_labels WHERE labels = ?))
"""
_INSERT_BATCH = """
INSERT INTO batches (id, label, source, status, priority, selector, schedule_id, created_at, finished_at)
VALUES (?, ?, 'schedule', 'finished', 0, '{"all": true}', NULL, ?, ?)
"""


def _result(passed: bool, index: int, old_checks: bool) -> tuple[str, float, str, str, str, str | None]:
    """A finished HTTP run's columns as the writer encodes them (status, score, checks, metrics,
    transcript, its list of check labels); before the suite changed (``old_checks``) its tests had one
    of five older lists."""
    expected = f"contains 'open' (suite {index % 5})" if old_checks else "contains 'open'"
    checks = encode_checks(
        [
            CheckResult(name="status", passed=passed, expected=200, actual=200 if passed else 503),
            CheckResult(
                name="jsonpath $.reply contains",
                passed=passed,
                expected=expected,
                actual="open" if passed else "",
            ),
        ]
    )
    transcript = [
        TranscriptEntry(speaker="user", text=f"hello, what are your opening hours? ({index})"),
        TranscriptEntry(speaker="agent", text="We are open 9 to 5." if passed else "Service unavailable"),
    ]
    return (
        "passed" if passed else "failed",
        100.0 if passed else 0.0,
        checks.own,
        json.dumps({"latency_ms": 20.0 + index % 50}),
        _TRANSCRIPT.dump_json(transcript, exclude_defaults=True).decode(),
        checks.labels,
    )


def build_history(db: Path, runs: int, old_batches: int) -> tuple[int, int]:
    """Insert nightly batches of every test until ``runs`` runs are stored, the first ``old_batches``
    with the suite's older checks; returns (batches, runs)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = OFF")  # building only; the daemon reopens it with its own pragmas
    tests = conn.execute("SELECT id, name, version, version_id FROM tests ORDER BY id").fetchall()
    batches = max(1, runs // len(tests))
    first_day = datetime.now(UTC) - timedelta(days=batches + 1)
    results = {
        (old, passed, index): _result(passed, index, old)
        for old in (True, False)
        for passed in (True, False)
        for index in range(50)
    }
    total = 0
    for batch in range(1, batches + 1):
        started = first_day + timedelta(days=batch)
        finished = started + timedelta(minutes=30)
        rows = []
        for position, (test_id, name, version, version_id) in enumerate(tests):
            # One test in ten is flaky (fails every third batch); the others fail one night in nine.
            failing = batch % 3 == 0 if test_id % 10 == 0 else (test_id + batch) % 9 == 0
            status, score, checks, metrics, transcript, labels = results[
                (batch <= old_batches, not failing, position % 50)
            ]
            at = to_text(started + timedelta(milliseconds=position * 300))
            rows.append(
                (batch, test_id, name, version, status, at, at, at, 20.0 + position % 50, score, checks,
                 metrics, transcript, version_id, labels)
            )  # fmt: skip
        conn.execute("BEGIN")
        conn.execute(
            _INSERT_BATCH, (batch, f"nightly {started:%Y-%m-%d}", to_text(started), to_text(finished))
        )
        conn.executemany(KEEP_LABELS, {(row[-1],) for row in rows})
        conn.executemany(_INSERT_RUN, rows)
        conn.execute("COMMIT")
        total += len(rows)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return batches, total


class HealthPoller:
    """``GET /v1/health`` every ``interval_s`` on its own connection, round trips in milliseconds."""

    def __init__(self, socket: Path, interval_s: float = 0.01) -> None:
        self.client = CallboardClient(socket, timeout_s=60)
        self.interval_s = interval_s
        self.latencies: list[float] = []
        self.unavailable = 0  # answers saying the store cannot commit

    async def poll(self, until: Callable[[], bool]) -> None:
        """Poll until ``until()`` holds."""
        while not until():
            started = time.perf_counter()
            if (await self.client.health()).status != "ok":
                self.unavailable += 1
            self.latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(self.interval_s)

    def figures(self, name: str) -> dict[str, float]:
        """p50, p99 and max of the round trips so far, as ``{name}_p50_ms`` etc."""
        ordered = sorted(self.latencies)
        return {
            f"{name}_p50_ms": statistics.median(ordered),
            f"{name}_p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            f"{name}_max_ms": ordered[-1],
            f"{name}_count": len(ordered),
        }


async def timed(call: Awaitable[Any]) -> float:
    """Milliseconds an awaitable takes."""
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


async def first_screen(client: CallboardClient, tests: int) -> float:
    """Milliseconds from starting the TUI until its Tests table shows every test."""
    app = CallboardApp(client)
    started = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        while table.row_count < tests:
            if time.perf_counter() - started > 120:
                raise TimeoutError("the Tests table did not fill within 120 s")
            await pilot.pause(0.001)
        await pilot.pause()
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed


async def cli(*args: str) -> tuple[float, str]:
    """Run ``callboard ARGS`` as a whole process; (milliseconds, stdout). Fails loudly on a non-zero exit."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callboard.core",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    elapsed = (time.perf_counter() - started) * 1000
    if process.returncode != 0:
        raise RuntimeError(f"callboard {' '.join(args)} exited {process.returncode}: {err.decode()}")
    return elapsed, out.decode()


async def measure(state_dir: Path, runs: int, tests: int, prune: int, rounds: int) -> dict[str, Any]:
    """Build the history, then time the first screen, trends and a prune on a real daemon."""
    settings = {"DAEMON__MAX_REQUEST_KB": "65536"}
    started = time.perf_counter()
    async with bench_daemon(state_dir, **settings) as client:
        await client.import_tests(tests=history_suite(tests))
    batches, stored = build_history(state_dir / "callboard.db", runs, prune // tests)
    build_s = time.perf_counter() - started
    db_mb = (state_dir / "callboard.db").stat().st_size / 1e6
    figures: dict[str, Any] = {
        "tests": tests,
        "runs": stored,
        "batches": batches,
        "build_s": build_s,
        "db_mb": db_mb,
    }
    figures["load_at_start"] = os.getloadavg()[0]
    async with bench_daemon(state_dir, **settings) as client:
        socket = DaemonPaths.of(load_settings()).socket
        idle = HealthPoller(socket)
        deadline = time.monotonic() + 2.0
        await idle.poll(lambda: time.monotonic() > deadline)
        figures |= idle.figures("health_idle")
        await idle.client.aclose()

        screens: list[float] = []
        for _ in range(rounds):
            screens.append(await first_screen(client, tests))
            # The app's flaky-marks request may still be running in the daemon when the app exits: a read
            # of one run queues behind it, so that the next round starts on an idle daemon.
            await client.list_runs(limit=1)
        flaky_calls = [await timed(client.trends(1, flaky_only=True)) for _ in range(rounds)]
        api_trends = [await timed(client.trends(10)) for _ in range(rounds)]
        api_bytes = [await timed(client.request("GET", "/v1/trends")) for _ in range(rounds)]
        cli_trends = [(await cli("trends"))[0] for _ in range(rounds)]
        figures |= {
            "first_screen_ms": statistics.median(screens),
            "first_screen_rounds_ms": [round(screen) for screen in screens],
            "flaky_marks_api_ms": statistics.median(flaky_calls),
            "trends_cli_ms": statistics.median(cli_trends),
            "trends_api_ms": statistics.median(api_trends),
            "trends_api_bytes_ms": statistics.median(api_bytes),
        }

        busy = HealthPoller(socket)
        prune_task = asyncio.create_task(cli("prune", "--max-runs", str(stored - prune)))
        await busy.poll(prune_task.done)
        try:
            prune_ms, said = await prune_task
        except RuntimeError as exc:  # the figures above are still worth printing
            prune_ms, said = float("nan"), f"FAILED: {str(exc)[-300:]}"
        await busy.client.aclose()
        figures |= {
            "prune_ms": prune_ms,
            "prune_said": said.strip(),
            **busy.figures("health_prune"),
            "store_unavailable_polls": busy.unavailable,
            "load_at_end": os.getloadavg()[0],
        }
    with sqlite3.connect(state_dir / "callboard.db") as conn:
        figures["runs_left"] = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        figures["label_lists_left"] = conn.execute("SELECT COUNT(*) FROM check_labels").fetchone()[0]
    return figures


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--tests", type=int, default=5_000)
    parser.add_argument("--prune", type=int, default=100_000, help="runs the prune removes (whole batches)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("CALLBOARD_CONFIG", None)
        f = asyncio.run(measure(Path(tmp), args.runs, args.tests, args.prune, args.rounds))
    print(
        f"{f['runs']:,} runs ({f['batches']} batches × {f['tests']:,} tests) built in {f['build_s']:.0f} s, "
        f"{f['db_mb']:.0f} MB"
    )

    def spread(name: str) -> str:
        return (
            f"{f[f'{name}_p50_ms']:.1f} ms p50, {f[f'{name}_p99_ms']:.1f} p99, {f[f'{name}_max_ms']:.0f} max"
        )

    rows = [
        ("health, idle daemon (baseline)", spread("health_idle"), ""),
        ("TUI first screen (tests table filled)", f"{f['first_screen_ms']:.0f} ms", "< 1000 ms"),
        ("  flaky marks (GET /v1/trends?flaky)", f"{f['flaky_marks_api_ms']:.0f} ms", ""),
        ("callboard trends (whole process)", f"{f['trends_cli_ms']:.0f} ms", "< 2000 ms"),
        ("  GET /v1/trends (10 batches, models)", f"{f['trends_api_ms']:.0f} ms", ""),
        ("  GET /v1/trends (10 batches, bytes)", f"{f['trends_api_bytes_ms']:.0f} ms", ""),
        (f"callboard prune ({f['runs'] - f['runs_left']:,} runs)", f"{f['prune_ms']:.0f} ms", ""),
        (
            f"  health during the prune ({f['health_prune_count']} polls)",
            spread("health_prune"),
            "p99 < 50 ms",
        ),
        ("  store unavailable answers meanwhile", str(f["store_unavailable_polls"]), ""),
        ("machine load (1 min), start → end", f"{f['load_at_start']:.2f} → {f['load_at_end']:.2f}", ""),
    ]
    for name, value, target in rows:
        print(f"{name:<42}{value:>28}   {target}")
    summary = {key: round(value, 1) if isinstance(value, float) else value for key, value in f.items()}
    print(f"prune said: {f['prune_said']}")
    print(json.dumps({"bench": "history_1m", **summary}))


if __name__ == "__main__":
    main()
