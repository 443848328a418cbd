"""``GET /v1/trends``: pass rate and score per test over the last batches, with flaky tests flagged."""

from __future__ import annotations

import asyncio
from itertools import groupby
from operator import itemgetter
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic_core import to_json

from callboard.core.api.deps import Daemon
from callboard.core.models.api import Trends
from callboard.core.models.history import BatchVerdicts
from callboard.core.reports.history import FlakyInfo, flaky_tests, mean_score, pass_rate

router = APIRouter(prefix="/v1", tags=["history"])
# Runs per test looked at for flakiness, unless the request says otherwise.
FLAKY_WINDOW = 20


async def flaky_now(
    daemon: Daemon, window: int = FLAKY_WINDOW, test: str | None = None
) -> dict[str, FlakyInfo]:
    """The tests that both passed and failed at one version among their newest ``window`` runs."""
    return flaky_tests(await daemon.store.history.version_verdicts(window, test))


def trends_json(rows: list[BatchVerdicts], flaky: dict[str, FlakyInfo]) -> bytes:
    """The ``Trends`` document for the store's rows (sorted by name then batch, as the store gives them):
    the bytes ``Trends.model_dump_json`` makes of ``reports.history.trends``, encoded from plain dicts in
    that model's field order. A pydantic model per point took most of the request at 10,000 tests."""
    tests = []
    for name, group in groupby(rows, key=itemgetter(0)):
        info = flaky.get(name)
        points = [
            {"batch_id": batch_id, "pass_rate": pass_rate(passed, judged), "mean_score": mean_score(mean)}
            for _, batch_id, judged, passed, mean in group
        ]
        version = None if info is None else info.version
        tests.append({"name": name, "points": points, "flaky": info is not None, "flaky_version": version})
    # As the model encodes them: a NaN or infinite mean score (never stored, but a float) is null.
    return to_json({"tests": tests}, inf_nan_mode="null")


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
