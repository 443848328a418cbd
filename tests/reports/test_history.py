"""Per-test trends across batches and flaky tests, counted by a real SQLite store (``HistoryRepo``)
and shaped by ``core.reports.history``; sparklines (``core.sparkline``) of them."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callboard.core.models import RunStatus
from callboard.core.reports.history import FlakyInfo, TestTrend, TrendPoint, flaky_tests, trends
from callboard.core.sparkline import SPARK_BARS, sparkline
from callboard.storage import Store

P, F, E = RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR


@dataclass
class History:
    """Runs written straight into a real database file, then read back through the store's history."""

    store: Store
    rows: list[tuple[object, ...]] = field(default_factory=list)
    next_id: int = 1

    def add(
        self,
        batch_id: int,
        test_name: str,
        status: RunStatus,
        version: int = 1,
        score: float | None = None,
        run_id: int | None = None,
    ) -> None:
        """A run; ids increase as the store hands them out, unless ``run_id`` says otherwise."""
        if run_id is None:
            run_id = self.next_id
            self.next_id += 1
        self.rows.append((run_id, batch_id, test_name, version, status.value, score))

    def series(self, test_name: str, outcomes: list[tuple[int, RunStatus]]) -> None:
        """One run per (version, status), one batch each, oldest first."""
        for index, (version, status) in enumerate(outcomes):
            self.add(index + 1, test_name, status, version)

    def _write(self) -> None:
        # Shuffled: the database, not the insertion order, decides what is newest.
        rows = list(self.rows)
        random.Random(7).shuffle(rows)
        self.rows.clear()
        with sqlite3.connect(self.store.path) as conn:
            batches = {row[1] for row in rows}
            conn.executemany(
                "INSERT OR IGNORE INTO batches (id, label, source, created_at) VALUES (?, 'b', 'test', '')",
                [(batch_id,) for batch_id in batches],
            )
            conn.executemany(
                "INSERT INTO runs (id, batch_id, test_name, test_version, kind, status, score, queued_at)"
                " VALUES (?, ?, ?, ?, 'http', ?, ?, '')",
                rows,
            )

    async def trends(self, last_batches: int = 10, test: str | None = None) -> list[TestTrend]:
        self._write()
        return trends(await self.store.history.batch_verdicts(last_batches, test))

    async def flaky(self, window: int = 20, test: str | None = None) -> dict[str, FlakyInfo]:
        self._write()
        return flaky_tests(await self.store.history.version_verdicts(window, test))


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[History]:
    async with await Store.open(tmp_path / "callboard.db") as store:
        yield History(store)


# --- trends --------------------------------------------------------------------------------------


async def test_trends_give_a_point_per_batch_oldest_first(history: History) -> None:
    # batch 1: greets passes twice (repeat = 2), books fails
    history.add(1, "greets", P, score=100.0)
    history.add(1, "greets", P, score=80.0)
    history.add(1, "books", F, score=0.0)
    # batch 2: one pass, one fail, one error: errors count against the pass rate
    history.add(2, "greets", P, score=100.0)
    history.add(2, "greets", F, score=50.0)
    history.add(2, "greets", E)
    # batch 3: books only
    history.add(3, "books", P, score=100.0)
    result = await history.trends()
    assert result == [
        TestTrend("books", [TrendPoint(1, 0.0, 0.0), TrendPoint(3, 100.0, 100.0)]),
        TestTrend("greets", [TrendPoint(1, 100.0, 90.0), TrendPoint(2, 33.33, 75.0)]),
    ]
    # Points unpack as plain tuples too.
    batch_id, pass_rate, mean_score = result[1].points[0]
    assert (batch_id, pass_rate, mean_score) == (1, 100.0, 90.0)
    assert await history.trends(test="books") == [result[0]]
    assert await history.trends(test="nobody") == []


async def test_trends_keep_only_the_last_batches_that_ran_the_test(history: History) -> None:
    for batch_id in range(1, 16):
        history.add(batch_id, "greets", P if batch_id % 2 else F)
    history.add(16, "books", P)
    points = (await history.trends(last_batches=3))[1].points
    assert [point.batch_id for point in points] == [13, 14, 15]
    assert [point.pass_rate for point in points] == [100.0, 0.0, 100.0]
    # Each test counts its own batches: books ran in one, greets in fifteen.
    assert [len(trend.points) for trend in await history.trends()] == [1, 10]
    assert await history.trends(last_batches=0) == []


async def test_trends_skip_batches_without_a_verdict_and_tolerate_missing_scores(
    history: History,
) -> None:
    history.add(1, "greets", P)  # no checks, no score
    history.add(2, "greets", RunStatus.SKIPPED)
    history.add(3, "greets", RunStatus.CANCELLED)
    history.add(4, "greets", RunStatus.RUNNING)
    history.add(5, "greets", F, score=40.0)
    assert await history.trends() == [
        TestTrend("greets", [TrendPoint(1, 100.0, None), TrendPoint(5, 0.0, 40.0)])
    ]


async def test_no_runs_no_trends(history: History) -> None:
    assert await history.trends() == []
    assert await history.flaky() == {}


# --- flaky tests ---------------------------------------------------------------------------------


async def test_a_test_that_passes_and_fails_at_one_version_is_flaky(history: History) -> None:
    history.series("greets", [(3, P), (3, F), (3, P), (3, P), (3, F)])
    assert await history.flaky() == {"greets": FlakyInfo(name="greets", version=3, passes=3, failures=2)}


async def test_a_fix_at_a_new_version_is_not_flaky(history: History) -> None:
    history.series("greets", [(1, F), (1, F), (2, P), (2, P)])
    history.series("books", [(1, P), (2, F), (3, P)])
    assert await history.flaky() == {}


async def test_errors_cancellations_and_skips_do_not_make_a_test_flaky(history: History) -> None:
    history.series("greets", [(1, P), (1, E), (1, P)])
    history.add(9, "greets", RunStatus.CANCELLED)
    history.add(10, "greets", RunStatus.SKIPPED)
    history.add(11, "greets", RunStatus.QUEUED)
    assert await history.flaky() == {}


async def test_only_the_newest_runs_within_the_window_count(history: History) -> None:
    # Flaky long ago at version 1, then twenty passes at the same version.
    history.series("greets", [(1, P), (1, F)] + [(1, P)] * 20)
    assert await history.flaky(window=20) == {}
    assert await history.flaky(window=21) == {
        "greets": FlakyInfo(name="greets", version=1, passes=20, failures=1)
    }
    assert await history.flaky(window=0) == {}


async def test_recency_follows_batch_then_run_id(history: History) -> None:
    # Run ids out of batch order (a hand-made set): the batch decides what is newest.
    history.add(1, "greets", F, run_id=100)
    for run_id in (5, 6, 7):
        history.add(2, "greets", P, run_id=run_id)
    assert await history.flaky(window=3) == {}
    assert "greets" in await history.flaky(window=4)


async def test_the_newest_flaky_version_is_reported(history: History) -> None:
    history.series("greets", [(1, P), (1, F), (2, F), (2, P), (2, F), (3, P)])
    assert await history.flaky() == {"greets": FlakyInfo(name="greets", version=2, passes=1, failures=2)}


async def test_flaky_tests_are_told_apart_by_name(history: History) -> None:
    history.series("greets", [(1, P), (1, F)])
    history.series("books", [(1, P), (1, P)])
    assert set(await history.flaky()) == {"greets"}
    assert await history.flaky(test="books") == {}


async def test_the_aggregates_match_a_count_of_every_run(history: History) -> None:
    # A random history (several runs per test and batch, every status, edits, ids out of batch order)
    # against the documented meaning counted run by run in Python: the store walks only each test's
    # newest runs, and must find the same rows as a count of all of them.
    rng = random.Random(18)
    statuses = [P, P, P, F, E, RunStatus.CANCELLED, RunStatus.SKIPPED, RunStatus.QUEUED]
    runs: list[tuple[int, int, str, int, RunStatus, float | None]] = []
    for run_id in rng.sample(range(1, 5000), 900):
        name = f"t{rng.randrange(12)}"
        status = rng.choice(statuses)
        score = rng.choice([None, 0.0, 50.0, 100.0])
        runs.append((run_id, rng.randint(1, 40), name, rng.randint(1, 3), status, score))
    for run_id, batch_id, name, version, status, score in runs:
        history.add(batch_id, name, status, version, score, run_id)

    def batch_rows(last: int, only: str | None) -> list[tuple[object, ...]]:
        expected: list[tuple[object, ...]] = []
        for name in sorted({run[2] for run in runs if only in (None, run[2])}):
            judged = [run for run in runs if run[2] == name and run[4] in (P, F, E)]
            for batch_id in sorted({run[1] for run in judged})[-last:] if last > 0 else []:
                here = [run for run in judged if run[1] == batch_id]
                scores = [run[5] for run in here if run[5] is not None]
                mean = round(sum(scores) / len(scores), 6) if scores else None
                expected.append((name, batch_id, len(here), sum(run[4] is P for run in here), mean))
        return expected

    def version_rows(window: int, only: str | None) -> list[tuple[object, ...]]:
        expected: list[tuple[object, ...]] = []
        for name in sorted({run[2] for run in runs if only in (None, run[2])}):
            verdicts = sorted(
                (run for run in runs if run[2] == name and run[4] in (P, F)), key=lambda r: (r[1], r[0])
            )
            newest = verdicts[-window:] if window > 0 else []
            for version in sorted({run[3] for run in newest}, reverse=True):
                at = [run for run in newest if run[3] == version]
                expected.append(
                    (name, version, sum(run[4] is P for run in at), sum(run[4] is F for run in at))
                )
        return expected

    history._write()
    store = history.store.history
    for last, only in [(1, None), (3, None), (10, None), (100, None), (4, "t3"), (2, "nobody")]:
        found = [
            (*row[:4], None if row[4] is None else round(row[4], 6))
            for row in await store.batch_verdicts(last, only)
        ]
        assert found == batch_rows(last, only), (last, only)
    for window, only in [(1, None), (2, None), (5, None), (20, None), (500, None), (7, "t5")]:
        assert [tuple(row) for row in await store.version_verdicts(window, only)] == version_rows(
            window, only
        )


# --- sparkline -----------------------------------------------------------------------------------


def test_sparkline_scales_between_the_smallest_and_largest_value() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10.0, 0.0, 5.0]) == "█▁▅"
    assert sparkline([]) == ""


def test_sparkline_on_a_fixed_scale_clamps() -> None:
    assert sparkline([0, 100, 100, 50], low=0, high=100) == "▁██▅"
    assert sparkline([-20, 250], low=0, high=100) == "▁█"


def test_sparkline_of_a_flat_series_sits_mid_height() -> None:
    assert sparkline([100.0, 100.0, 100.0]) == SPARK_BARS[4] * 3


def test_sparkline_leaves_gaps_for_missing_values() -> None:
    assert sparkline([0.0, None, float("nan"), 100.0]) == "▁  █"
    assert sparkline([None, None]) == "  "


async def test_sparkline_of_pass_rates_from_trends(history: History) -> None:
    for batch_id in range(1, 6):
        history.add(batch_id, "greets", P if batch_id > 2 else F)
    rates = [point.pass_rate for point in (await history.trends())[0].points]
    assert sparkline(rates, low=0, high=100) == "▁▁███"
