"""How tests fare across batches: per-test trends, flaky tests and sparklines for the terminal.

Everything here is a pure function of the runs given, in any order: recency is decided by
``(batch_id, id)``, both of which the store hands out in increasing order, so a later batch (and within a
batch, a later-queued run) counts as newer. Runs that are not final are ignored throughout.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar, NamedTuple

from callboard.core.models import Run, RunStatus

SPARK_BARS = "▁▂▃▄▅▆▇█"
# Statuses that say something about the test itself; error/cancelled/skipped say more about the
# environment (network, provider, missing phone number) and would make every test look unstable.
_VERDICTS = (RunStatus.PASSED, RunStatus.FAILED)
# The same statuses BatchCounts.pass_rate judges, so a trend point agrees with the batch summary.
_JUDGED = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR)


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
    """A test that both passed and failed at one ``version`` within the window.

    ``passes`` and ``failures`` count its runs at that version in the window; ``flips`` how often the
    outcome changed from one of those runs to the next, oldest to newest.
    """

    name: str
    version: int
    passes: int
    failures: int
    flips: int


def _recency(run: Run) -> tuple[int, int]:
    return (run.batch_id, run.id)


def trends(runs: list[Run], last_batches: int = 10) -> list[TestTrend]:
    """Per test (sorted by name), one point for each of the last ``last_batches`` batches that ran it.

    A batch "ran" a test when at least one run of it there got a verdict (passed, failed or error); a
    batch where it was only skipped or cancelled has no pass rate and is left out.
    """
    # test name -> batch id -> its judged runs there
    grouped: defaultdict[str, defaultdict[int, list[Run]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if run.status in _JUDGED:
            grouped[run.test_name][run.batch_id].append(run)
    result: list[TestTrend] = []
    for name in sorted(grouped):
        by_batch = grouped[name]
        recent = sorted(by_batch)[-last_batches:] if last_batches > 0 else []
        result.append(TestTrend(name, [_point(batch_id, by_batch[batch_id]) for batch_id in recent]))
    return result


def _point(batch_id: int, runs: list[Run]) -> TrendPoint:
    passed = sum(run.status is RunStatus.PASSED for run in runs)
    scores = [run.score for run in runs if run.score is not None]
    return TrendPoint(
        batch_id=batch_id,
        pass_rate=round(100.0 * passed / len(runs), 2),
        mean_score=round(statistics.fmean(scores), 2) if scores else None,
    )


def flaky_tests(runs: list[Run], window: int = 20) -> dict[str, FlakyInfo]:
    """The tests that both passed and failed at the same test version among their newest ``window``
    passed/failed runs, by name.

    Error, cancelled and skipped runs are ignored. A test that failed at one version and passes after
    an edit (a new version) is not flaky: the change explains the difference. When several versions in
    the window are flaky, the newest of them is reported.
    """
    by_test: defaultdict[str, list[Run]] = defaultdict(list)
    for run in runs:
        if run.status in _VERDICTS:
            by_test[run.test_name].append(run)
    flaky: dict[str, FlakyInfo] = {}
    for name, test_runs in by_test.items():
        recent = sorted(test_runs, key=_recency)[-window:] if window > 0 else []
        by_version: defaultdict[int, list[Run]] = defaultdict(list)
        for run in recent:
            by_version[run.test_version].append(run)
        for version in sorted(by_version, reverse=True):
            info = _flaky_info(name, version, by_version[version])
            if info is not None:
                flaky[name] = info
                break
    return flaky


def _flaky_info(name: str, version: int, runs: list[Run]) -> FlakyInfo | None:
    """``runs`` oldest first, all passed or failed."""
    passes = sum(run.status is RunStatus.PASSED for run in runs)
    failures = len(runs) - passes
    if passes == 0 or failures == 0:
        return None
    flips = sum(before.status is not after.status for before, after in pairwise(runs))
    return FlakyInfo(name=name, version=version, passes=passes, failures=failures, flips=flips)


def sparkline(values: Sequence[float | None], *, low: float | None = None, high: float | None = None) -> str:
    """One bar of ``▁▂▃▄▅▆▇█`` per value, scaled from ``low`` to ``high``.

    The scale defaults to the smallest and largest value; pass ``low=0, high=100`` for pass rates and
    scores so that 100 always reads as a full bar. Values outside the scale are clamped. None (a batch
    without a score), NaN and infinities are a space, so gaps stay visible. A series with no spread is
    drawn at mid height, neither good nor bad.
    """
    present = [value for value in values if value is not None and math.isfinite(value)]
    if not present:
        return " " * len(values)
    bottom = min(present) if low is None else low
    top = max(present) if high is None else high
    span = top - bottom
    bars: list[str] = []
    for value in values:
        if value is None or not math.isfinite(value):
            bars.append(" ")
        elif span <= 0:
            bars.append(SPARK_BARS[len(SPARK_BARS) // 2])
        else:
            share = min(max((value - bottom) / span, 0.0), 1.0)
            bars.append(SPARK_BARS[round(share * (len(SPARK_BARS) - 1))])
    return "".join(bars)
