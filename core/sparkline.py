"""Sparklines for the terminal, drawn the same in the CLI (``callboard trends``) and the TUI (Trends)."""

from __future__ import annotations

import math
from collections.abc import Sequence

SPARK_BARS = "▁▂▃▄▅▆▇█"


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
