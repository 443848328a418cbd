"""How tests fare across batches: per-test trends and flaky tests from the store's aggregates.

The store does the counting (``HistoryRepo``); these pure functions turn its rows into what the API,
the CLI and the reports show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import ClassVar, NamedTuple

from callboard.core.models.history import BatchVerdicts, VersionVerdicts


class TrendPoint(NamedTuple):
    """One test in one batch: pass rate over its passed/failed/error runs there (0–100), and the mean
    score of those of its runs that have one (None when none has)."""

    batch_id: int
    pass_rate: float
    mean_score: float | None


@dataclass(frozen=True)
class TestTrend:
    """A test's points over the last batches that ran it, oldest first (the order a sparkline reads)."""

    # Not a pytest test class, despite the name.
    __test__: ClassVar[bool] = False

    name: str
    points: list[TrendPoint]


@dataclass(frozen=True)
class FlakyInfo:
    """A test that both passed and failed at one ``version`` among its newest runs; ``passes`` and
    ``failures`` count its runs at that version there."""

    name: str
    version: int
    passes: int
    failures: int


def trends(rows: Iterable[BatchVerdicts]) -> list[TestTrend]:
    """Per test, its points oldest first, from rows sorted by name then batch (as the store gives them)."""
    return [
        TestTrend(name, [_point(row) for row in group])
        for name, group in groupby(rows, key=lambda row: row.test_name)
    ]


def _point(row: BatchVerdicts) -> TrendPoint:
    return TrendPoint(row.batch_id, pass_rate(row.passed, row.judged), mean_score(row.mean_score))


def pass_rate(passed: int, judged: int) -> float:
    """A batch's pass rate as shown: the share of its judged runs that passed, 0–100, two decimals."""
    return round(100.0 * passed / judged, 2)


def mean_score(mean: float | None) -> float | None:
    """A batch's mean score as shown: two decimals, None when none of its runs has a score."""
    return None if mean is None else round(mean, 2)


def flaky_tests(rows: Iterable[VersionVerdicts]) -> dict[str, FlakyInfo]:
    """The tests that both passed and failed at one version, by name, from rows sorted by name then
    newest version first (as the store gives them). When several versions are flaky, the newest is
    reported. A test that failed at one version and passes after an edit is not flaky: the change
    explains the difference."""
    flaky: dict[str, FlakyInfo] = {}
    for row in rows:
        if row.test_name not in flaky and row.passes and row.failures:
            flaky[row.test_name] = FlakyInfo(row.test_name, row.version, row.passes, row.failures)
    return flaky
