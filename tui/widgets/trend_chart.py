"""A plotext chart of one test's pass rate and mean score over its recent batches."""

from __future__ import annotations

import math

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from callboard.core.models.api import TestTrendOut

# Batch ids under the x axis: beyond this many they would run into each other.
_MAX_TICKS = 10
# Y labels every 25 when there are rows for them; otherwise plotext drops some, and which it drops
# varies, so short charts label every 50.
_FINE_TICKS_FROM_HEIGHT = 16


def chart_title(trend: TestTrendOut) -> str:
    """``checkout-flow · 10 batches · flaky at v3``."""
    batches = len(trend.points)
    title = f"{trend.name} · {batches} batch{'es' if batches != 1 else ''}"
    if trend.flaky:
        title += f" · flaky at v{trend.flaky_version}"
    return title


class TrendChart(PlotextPlot):
    """Pass rate and mean score (both 0–100) per batch, oldest on the left, batch ids on the x axis."""

    def __init__(self, empty_text: str = "no runs with a verdict yet", id: str | None = None) -> None:
        super().__init__(id=id)
        self.empty_text = empty_text
        self.trend: TestTrendOut | None = None
        self.show(None)

    def show(self, trend: TestTrendOut | None) -> None:
        """Draw ``trend`` (None: an empty chart that says why)."""
        self.trend = trend
        plt = self.plt
        plt.clear_figure()
        plt.ylim(0, 100)
        if trend is None or not trend.points:
            plt.title(self.empty_text)
            self.refresh()
            return
        plt.title(chart_title(trend))
        xs: list[float] = list(range(1, len(trend.points) + 1))
        # A braille line of one point is a single dot: too small to see.
        marker = "braille" if len(xs) > 1 else "●"
        scored = [(x, point.mean_score) for x, point in zip(xs, trend.points, strict=True)]
        scored = [(x, value) for x, value in scored if value is not None]
        if scored:
            plt.plot(
                [x for x, _ in scored], [value for _, value in scored], label="mean score", marker=marker
            )
        # Drawn last so that where the two lines meet, the pass rate shows.
        plt.plot(xs, [point.pass_rate for point in trend.points], label="pass rate %", marker=marker)
        # A lone point would give plotext a zero-width x range.
        plt.xlim(0.5, len(xs) + 0.5)
        step = max(1, math.ceil(len(xs) / _MAX_TICKS))
        plt.xticks(xs[::step], [str(point.batch_id) for point in trend.points[::step]])
        plt.xlabel("batch")
        self.refresh()

    def render(self) -> RenderResult:
        step = 25 if self.size.height >= _FINE_TICKS_FROM_HEIGHT else 50
        self.plt.yticks(list(range(0, 101, step)))
        return super().render()
