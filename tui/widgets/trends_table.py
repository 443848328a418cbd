"""The Trends screen's table: one row per test with its recent pass rates as a sparkline."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from rich.text import Text

from callboard.core.models.api import TestTrendOut
from callboard.core.sparkline import sparkline
from callboard.core.wording import percent
from callboard.tui.formatting import NONE, score
from callboard.tui.state.trend_board import last_pass_rate, mean_pass_rate
from callboard.tui.theme import MUTED, theme_style
from callboard.tui.widgets.virtual_table import Column, VirtualTable

# The sparkline shows this many of the newest batches (it fits the column's header).
SPARK_POINTS = 20
COLUMNS = [
    Column("name", "test", weight=3),
    Column("batches", "batches", 7, "right"),
    Column("last", "last", 6, "right"),
    Column("mean", "mean", 6, "right"),
    Column("score", "score", 6, "right"),
    Column("trend", "pass rate by batch", SPARK_POINTS),
    Column("flaky", "flaky", 8),
]


def trend_key(trend: TestTrendOut) -> Hashable:
    """Rows are keyed by test name (trends span versions and survive a re-import)."""
    return trend.name


class TrendsTable(VirtualTable):
    """Test, batches seen, last and mean pass rate, last mean score, a sparkline, and the flaky flag."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(COLUMNS, self.cells, trend_key, empty_text="loading…", id=id)

    def cells(self, trend: TestTrendOut) -> Sequence[Text]:
        """One row's cells."""
        last_score = trend.points[-1].mean_score if trend.points else None
        rates = [point.pass_rate for point in trend.points[-SPARK_POINTS:]]
        return [
            Text(trend.name),
            Text(f"{len(trend.points):,}"),
            Text(percent(last_pass_rate(trend), NONE)),
            Text(percent(mean_pass_rate(trend), NONE), style=MUTED),
            Text(score(last_score)),
            Text(sparkline(rates, low=0, high=100), style=theme_style(self.app, "text-primary")),
            Text(f"flaky v{trend.flaky_version}", style=theme_style(self.app, "text-warning"))
            if trend.flaky
            else Text(""),
        ]
