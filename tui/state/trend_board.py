"""The Trends screen's data: each test's recent points, how many batches back, which are shown and in
what order."""

from __future__ import annotations

from enum import StrEnum

from callboard.core.models.api import TestTrendOut

# What ``b`` steps through: how many batches back the trends look.
BATCH_WINDOWS = (10, 20, 50, 5)


class TrendOrder(StrEnum):
    """How the trends table is sorted."""

    NAME = "name"
    WORST = "worst first"


def last_pass_rate(trend: TestTrendOut) -> float | None:
    """The pass rate in the newest batch that ran the test."""
    return trend.points[-1].pass_rate if trend.points else None


def mean_pass_rate(trend: TestTrendOut) -> float | None:
    """The pass rate over all the points, each batch weighing the same."""
    if not trend.points:
        return None
    return sum(point.pass_rate for point in trend.points) / len(trend.points)


def _worst_first(trend: TestTrendOut) -> tuple[float, float, str]:
    # The lowest mean pass rate leads (a test that never passes is worse than a flaky one); among
    # equals flaky tests come first, and the name keeps the order stable.
    mean = mean_pass_rate(trend)
    return (101.0 if mean is None else mean, 0.0 if trend.flaky else 1.0, trend.name)


class TrendBoard:
    """The trends as last read, the batch window they were read for, the flaky-only switch and order."""

    def __init__(self) -> None:
        self.trends: list[TestTrendOut] = []
        self.by_name: dict[str, TestTrendOut] = {}
        self.window_index = 0
        self.flaky_only = False
        self.order = TrendOrder.NAME
        self.query = ""
        self.visible: list[TestTrendOut] = []

    @property
    def last_batches(self) -> int:
        """How many batches back the trends look."""
        return BATCH_WINDOWS[self.window_index]

    @property
    def flaky_count(self) -> int:
        """Tests flagged flaky."""
        return sum(trend.flaky for trend in self.trends)

    def load(self, trends: list[TestTrendOut]) -> None:
        """Replace the trends (as the daemon gives them: sorted by name)."""
        self.trends = trends
        self.by_name = {trend.name: trend for trend in trends}
        self._arrange()

    def next_window(self) -> int:
        """Look back the next number of batches; the caller reads the trends again."""
        self.window_index = (self.window_index + 1) % len(BATCH_WINDOWS)
        return self.last_batches

    def toggle_flaky_only(self) -> None:
        """Show only flaky tests, or all again."""
        self.flaky_only = not self.flaky_only
        self._arrange()

    def toggle_order(self) -> None:
        """Sort by name, or worst first (the lowest mean pass rate, flaky first among equals)."""
        self.order = TrendOrder.WORST if self.order is TrendOrder.NAME else TrendOrder.NAME
        self._arrange()

    def apply_filter(self, query: str) -> None:
        """Show only the tests whose name holds every word of ``query`` ("flaky" finds flaky ones)."""
        self.query = query
        self._arrange()

    def _arrange(self) -> None:
        words = self.query.lower().split()
        shown = [
            trend
            for trend in self.trends
            if (trend.flaky or not self.flaky_only)
            and all(word in f"{trend.name} {'flaky' if trend.flaky else ''}".lower() for word in words)
        ]
        if self.order is TrendOrder.WORST:
            shown.sort(key=_worst_first)
        self.visible = shown
