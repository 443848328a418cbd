"""Turn latency pooled over a test's trials in a batch.

A single call has two to four turns, too few for a p90; a batch that runs a test several times (its
``repeat``) has many. Every run's per-turn latencies (metrics ``turn_latency_ms.1``, ``turn_latency_ms.2``,
…, whatever the kind: call or voice) are pooled per test, and p50/p90/p95 are taken over the pool.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from callboard.core.models import Run
from callboard.core.models.percentiles import percentile
from callboard.core.models.reports import PooledLatency

TURN_PREFIX = "turn_latency_ms."
LATE_ANSWERS = "late_answer_count"


def turn_latencies(metrics: dict[str, float]) -> list[float]:
    """A run's per-turn latencies, in turn order."""
    numbered = []
    for key, value in metrics.items():
        if key.startswith(TURN_PREFIX) and key[len(TURN_PREFIX) :].isdigit():
            numbered.append((int(key[len(TURN_PREFIX) :]), value))
    return [value for _, value in sorted(numbered)]


def pooled_turn_latency(runs: Iterable[Run]) -> tuple[PooledLatency, ...]:
    """For each test with per-turn latencies, the percentiles over all its runs' turns (by test name)."""
    pools: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    late: dict[str, int] = defaultdict(int)
    for run in runs:
        latencies = turn_latencies(run.metrics)
        if not latencies:
            continue
        pools[run.test_name].extend(latencies)
        counts[run.test_name] += 1
        late[run.test_name] += int(run.metrics.get(LATE_ANSWERS, 0))
    return tuple(
        PooledLatency(
            test_name=name,
            runs=counts[name],
            turns=len(pool),
            p50_ms=percentile(pool, 0.5),
            p90_ms=percentile(pool, 0.9),
            p95_ms=percentile(pool, 0.95),
            late_answers=late[name],
        )
        for name, pool in sorted(pools.items())
    )
