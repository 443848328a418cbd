"""One percentile for every latency figure callboard reports (per run, per batch, per test)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0–1) percentile of non-empty ``values`` by linear interpolation between closest
    ranks, rounded to 0.1 (milliseconds, in practice: finer would be noise)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)
