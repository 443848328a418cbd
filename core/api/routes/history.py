"""``GET /v1/trends``: pass rate and score per test over the last batches, with flaky tests flagged."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Response

from callboard.core.api.deps import Daemon
from callboard.core.models.api import TestTrendOut, TrendPointOut, Trends
from callboard.core.models.history import BatchVerdicts
from callboard.core.reports.history import FlakyInfo, flaky_tests, trends

router = APIRouter(prefix="/v1", tags=["history"])
# Runs per test looked at for flakiness, unless the request says otherwise.
FLAKY_WINDOW = 20


async def flaky_now(
    daemon: Daemon, window: int = FLAKY_WINDOW, test: str | None = None
) -> dict[str, FlakyInfo]:
    """The tests that both passed and failed at one version among their newest ``window`` runs."""
    return flaky_tests(await daemon.store.history.version_verdicts(window, test))


def trends_json(rows: list[BatchVerdicts], flaky: dict[str, FlakyInfo]) -> bytes:
    """The ``Trends`` document for the store's rows."""
    found = Trends(
        tests=[
            TestTrendOut(
                name=trend.name,
                points=[TrendPointOut(**point._asdict()) for point in trend.points],
                flaky=trend.name in flaky,
                flaky_version=flaky[trend.name].version if trend.name in flaky else None,
            )
            for trend in trends(rows)
        ]
    )
    return found.model_dump_json().encode()


@router.get("/trends", response_model=Trends)
async def get_trends(
    daemon: Daemon,
    last_batches: Annotated[int, Query(ge=1, le=100)] = 10,
    window: Annotated[
        int, Query(ge=2, le=200, description="Runs per test looked at for flakiness.")
    ] = FLAKY_WINDOW,
    test: Annotated[str | None, Query(max_length=200)] = None,
    flaky: Annotated[bool, Query(description="Only the flaky tests.")] = False,  # noqa: FBT002 (FastAPI fills it)
) -> Response:
    """Each test's pass rate and mean score per batch, oldest first, and whether it is flaky."""
    found = await flaky_now(daemon, window, test)
    rows = await daemon.store.history.batch_verdicts(last_batches, test)
    if flaky:
        rows = [row for row in rows if row.test_name in found]
    # 10,000 tests × 10 batches is 100,000 points: shaped and encoded off the event loop, so that the
    # daemon keeps serving runs and events meanwhile.
    body = await asyncio.to_thread(trends_json, rows, found)
    return Response(body, media_type="application/json")
