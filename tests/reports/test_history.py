"""Per-test trends across batches, flaky tests and sparklines."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from callboard.core.models import Run, RunStatus
from callboard.core.reports.history import (
    SPARK_BARS,
    FlakyInfo,
    TestTrend,
    TrendPoint,
    flaky_tests,
    sparkline,
    trends,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
P, F, E = RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR


class RunFactory:
    """Hands out runs with increasing ids, as the store does."""

    def __init__(self) -> None:
        self.next_id = 1

    def __call__(
        self, batch_id: int, test_name: str, status: RunStatus, version: int = 1, **changes: Any
    ) -> Run:
        fields: dict[str, Any] = {
            "id": self.next_id,
            "batch_id": batch_id,
            "test_id": 1,
            "test_name": test_name,
            "test_version": version,
            "kind": "http",
            "target": "http://agent",
            "status": status,
            "queued_at": T0,
        }
        self.next_id += 1
        return Run(**(fields | changes))


@pytest.fixture
def make() -> RunFactory:
    return RunFactory()


def series(make: RunFactory, test_name: str, outcomes: list[tuple[int, RunStatus]]) -> list[Run]:
    """One run per (version, status), one batch each, oldest first."""
    return [make(index + 1, test_name, status, version) for index, (version, status) in enumerate(outcomes)]


def shuffled(runs: list[Run]) -> list[Run]:
    copy = list(runs)
    random.Random(7).shuffle(copy)
    return copy


# --- trends --------------------------------------------------------------------------------------


def test_trends_give_a_point_per_batch_oldest_first_whatever_the_input_order(make: RunFactory) -> None:
    runs = [
        # batch 1: greets passes twice (repeat = 2), books fails
        make(1, "greets", P, score=100.0),
        make(1, "greets", P, score=80.0),
        make(1, "books", F, score=0.0),
        # batch 2: one pass, one fail, one error: errors count against the pass rate
        make(2, "greets", P, score=100.0),
        make(2, "greets", F, score=50.0),
        make(2, "greets", E),
        # batch 3: books only
        make(3, "books", P, score=100.0),
    ]
    result = trends(shuffled(runs))
    assert result == [
        TestTrend("books", [TrendPoint(1, 0.0, 0.0), TrendPoint(3, 100.0, 100.0)]),
        TestTrend("greets", [TrendPoint(1, 100.0, 90.0), TrendPoint(2, 33.33, 75.0)]),
    ]
    # Points unpack as plain tuples too.
    batch_id, pass_rate, mean_score = result[1].points[0]
    assert (batch_id, pass_rate, mean_score) == (1, 100.0, 90.0)


def test_trends_keep_only_the_last_batches_that_ran_the_test(make: RunFactory) -> None:
    runs = [make(batch_id, "greets", P if batch_id % 2 else F) for batch_id in range(1, 16)]
    points = trends(runs, last_batches=3)[0].points
    assert [point.batch_id for point in points] == [13, 14, 15]
    assert [point.pass_rate for point in points] == [100.0, 0.0, 100.0]
    assert len(trends(runs)[0].points) == 10
    assert trends(runs, last_batches=0) == [TestTrend("greets", [])]


def test_trends_skip_batches_without_a_verdict_and_tolerate_missing_scores(make: RunFactory) -> None:
    runs = [
        make(1, "greets", P),  # no checks, no score
        make(2, "greets", RunStatus.SKIPPED, skip_reason="no phone number"),
        make(3, "greets", RunStatus.CANCELLED),
        make(4, "greets", RunStatus.RUNNING),
        make(5, "greets", F, score=40.0),
    ]
    assert trends(runs) == [TestTrend("greets", [TrendPoint(1, 100.0, None), TrendPoint(5, 0.0, 40.0)])]
    assert trends([]) == []


# --- flaky tests ---------------------------------------------------------------------------------


def test_a_test_that_passes_and_fails_at_one_version_is_flaky(make: RunFactory) -> None:
    runs = series(make, "greets", [(3, P), (3, F), (3, P), (3, P), (3, F)])
    assert flaky_tests(shuffled(runs)) == {
        "greets": FlakyInfo(name="greets", version=3, passes=3, failures=2, flips=3)
    }


def test_a_fix_at_a_new_version_is_not_flaky(make: RunFactory) -> None:
    runs = series(make, "greets", [(1, F), (1, F), (2, P), (2, P)])
    runs += series(make, "books", [(1, P), (2, F), (3, P)])
    assert flaky_tests(runs) == {}


def test_errors_cancellations_and_skips_do_not_make_a_test_flaky(make: RunFactory) -> None:
    runs = series(make, "greets", [(1, P), (1, E), (1, P)])
    runs.append(make(9, "greets", RunStatus.CANCELLED))
    runs.append(make(10, "greets", RunStatus.SKIPPED))
    runs.append(make(11, "greets", RunStatus.QUEUED))
    assert flaky_tests(runs) == {}


def test_only_the_newest_runs_within_the_window_count(make: RunFactory) -> None:
    # Flaky long ago at version 1, then twenty passes at the same version.
    runs = series(make, "greets", [(1, P), (1, F)] + [(1, P)] * 20)
    assert flaky_tests(runs, window=20) == {}
    assert flaky_tests(runs, window=21) == {
        "greets": FlakyInfo(name="greets", version=1, passes=20, failures=1, flips=1)
    }
    assert flaky_tests(runs, window=0) == {}


def test_recency_follows_batch_then_run_id(make: RunFactory) -> None:
    # Run ids out of batch order (a hand-made set): the batch decides what is newest.
    old_fail = make(1, "greets", F, id=100)
    new_passes = [make(2, "greets", P, id=run_id) for run_id in (5, 6, 7)]
    assert flaky_tests([old_fail, *new_passes], window=3) == {}
    assert "greets" in flaky_tests([old_fail, *new_passes], window=4)


def test_the_newest_flaky_version_is_reported(make: RunFactory) -> None:
    runs = series(make, "greets", [(1, P), (1, F), (2, F), (2, P), (2, F), (3, P)])
    assert flaky_tests(runs) == {"greets": FlakyInfo(name="greets", version=2, passes=1, failures=2, flips=2)}


def test_flaky_tests_are_told_apart_by_name(make: RunFactory) -> None:
    runs = series(make, "greets", [(1, P), (1, F)]) + series(make, "books", [(1, P), (1, P)])
    assert set(flaky_tests(runs)) == {"greets"}


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


def test_sparkline_of_pass_rates_from_trends(make: RunFactory) -> None:
    runs = [make(batch_id, "greets", P if batch_id > 2 else F) for batch_id in range(1, 6)]
    rates = [point.pass_rate for point in trends(runs)[0].points]
    assert sparkline(rates, low=0, high=100) == "▁▁███"
