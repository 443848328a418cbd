"""``GET /v1/trends``: pass rate and score per test over the last batches, with flaky tests flagged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from callboard.core.api.deps import Daemon
from callboard.core.models import Run
from callboard.core.models.api import TestTrendOut, TrendPointOut, Trends
from callboard.core.reports.history import flaky_tests, trends

router = APIRouter(prefix="/v1", tags=["history"])
# How far back history looks: the newest runs that passed or failed, enough for every test's window.
_VERDICTS_READ = 20_000


async def recent_verdicts(daemon: Daemon, limit: int = _VERDICTS_READ) -> list[Run]:
    """The newest runs with a verdict (passed, failed, error)."""
    return await daemon.store.runs.page(status=["passed", "failed", "error"], limit=limit)


@router.get("/trends", response_model=Trends)
async def get_trends(
    daemon: Daemon,
    last_batches: Annotated[int, Query(ge=1, le=100)] = 10,
    window: Annotated[int, Query(ge=2, le=200, description="Runs per test looked at for flakiness.")] = 20,
    test: Annotated[str | None, Query(max_length=200)] = None,
) -> Trends:
    """Each test's pass rate and mean score per batch, oldest first, and whether it is flaky."""
    runs = await recent_verdicts(daemon)
    if test is not None:
        runs = [run for run in runs if run.test_name == test]
    flaky = flaky_tests(runs, window)
    return Trends(
        tests=[
            TestTrendOut(
                name=trend.name,
                points=[TrendPointOut(**point._asdict()) for point in trend.points],
                flaky=trend.name in flaky,
                flaky_version=flaky[trend.name].version if trend.name in flaky else None,
            )
            for trend in trends(runs, last_batches)
        ]
    )
