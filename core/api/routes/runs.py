"""``/v1/runs``: list runs with filters (newest first), read one, cancel or retry it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from callboard.core.api.deps import Daemon, PathId, QueryId
from callboard.core.api.errors import ApiError, not_found
from callboard.core.api.routes.batches import submit
from callboard.core.models import KINDS, Run, RunStatus
from callboard.core.models.api import (
    BatchCreated,
    CancelResult,
    ErrorResponse,
    RetryRequest,
    RunList,
    RunSummary,
)
from callboard.core.models.selection import Selection

router = APIRouter(prefix="/v1/runs", tags=["runs"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 409, 413, 422)
}


async def _run_or_404(daemon: Daemon, run_id: int) -> Run:
    run = await daemon.store.runs.get(run_id)
    if run is None:
        raise not_found("run", run_id)
    return run


@router.get("", response_model=RunList, responses=_ERRORS)
async def list_runs(
    daemon: Daemon,
    status: Annotated[list[RunStatus] | None, Query()] = None,
    batch_id: QueryId = None,
    test_id: QueryId = None,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(KINDS) + ")$")] = None,
    before: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RunList:
    """Runs newest first matching every filter (``status`` may repeat); ``before`` pages back."""
    runs = await daemon.store.runs.page(
        status=[s.value for s in status] if status else None,
        batch_id=batch_id,
        test_id=test_id,
        kind=kind,
        before_id=before,
        limit=limit,
    )
    next_before = runs[-1].id if len(runs) == limit else None
    return RunList(runs=[RunSummary.of(run) for run in runs], next_before=next_before)


@router.get("/{run_id}", response_model=Run, responses=_ERRORS)
async def get_run(daemon: Daemon, run_id: PathId) -> Run:
    """Everything about the run: checks, metrics, transcript, artifacts, error and its test snapshot."""
    return await _run_or_404(daemon, run_id)


@router.post("/{run_id}/cancel", response_model=CancelResult, responses=_ERRORS)
async def cancel_run(daemon: Daemon, run_id: PathId) -> CancelResult:
    """Cancel a queued or running run; 409 when it has already finished."""
    run = await _run_or_404(daemon, run_id)
    if run.status.is_final or not await daemon.engine.cancel_run(run_id):
        raise ApiError(409, "already_finished", f"run {run_id} has already finished ({run.status.value})")
    return CancelResult(cancelled=1)


@router.post("/{run_id}/retry", status_code=202, response_model=BatchCreated, responses=_ERRORS)
async def retry_run(daemon: Daemon, run_id: PathId, body: RetryRequest | None = None) -> BatchCreated:
    """Queue the run's test again, as it is defined now, in a new batch."""
    body = body or RetryRequest()
    run = await _run_or_404(daemon, run_id)
    if run.test_id is None or await daemon.store.tests.get(run.test_id) is None:
        raise ApiError(409, "test_deleted", f"run {run_id}: its test {run.test_name!r} has been deleted")
    return await submit(
        daemon,
        Selection(ids=[run.test_id]),
        body.batch_options(),
        label=f"retry of run {run_id}",
        source="retry",
    )
