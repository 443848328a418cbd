"""``/v1/batches``: queue a batch, list and read batches, cancel or retry one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from callboard.core.api.deps import Daemon, PathId, QueryId
from callboard.core.api.errors import ApiError, not_found
from callboard.core.api.routes.history import flaky_now
from callboard.core.engine.selection import SelectionError, UnknownTests
from callboard.core.models import Batch, BatchStatus, Run, RunStatus
from callboard.core.models.api import (
    BatchCreated,
    BatchList,
    BatchRequest,
    CancelResult,
    ErrorResponse,
    RetryRequest,
    SkippedTest,
)
from callboard.core.models.reports import BatchReport
from callboard.core.models.selection import BatchOptions, Selection
from callboard.core.reports.html_report import html_report
from callboard.core.reports.junit_xml import junit_xml
from callboard.core.reports.tabular import build_report, runs_csv, runs_json
from callboard.storage.errors import StoreError

router = APIRouter(prefix="/v1/batches", tags=["batches"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 409, 413, 422)
}
_NOT_PASSED = [RunStatus.FAILED.value, RunStatus.ERROR.value]
# Every run of a batch, read for a retry.
_ALL_RUNS = 1_000_000


async def submit(
    daemon: Daemon, selection: Selection, options: BatchOptions, *, label: str, source: str
) -> BatchCreated:
    """Queue a batch through the engine; a bad selection is a 422 naming what is wrong."""
    try:
        submitted = await daemon.engine.submit(selection, options, label=label, source=source)
    except UnknownTests as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except SelectionError as exc:
        raise ApiError(422, "invalid_selection", str(exc)) from None
    except StoreError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    skipped = [SkippedTest(test=name, reason=reason) for name, reason in sorted(submitted.skipped.items())]
    return BatchCreated(batch=submitted.batch, skipped=skipped)


async def batch_or_404(daemon: Daemon, batch_id: int) -> Batch:
    """The batch, or a 404 naming it."""
    batch = await daemon.store.batches.get(batch_id)
    if batch is None:
        raise not_found("batch", batch_id)
    return batch


@router.post("", status_code=202, response_model=BatchCreated, responses=_ERRORS)
async def create_batch(daemon: Daemon, body: BatchRequest) -> BatchCreated:
    """Queue the selected tests as one batch; answers with the batch and the tests it skips, and why."""
    return await submit(daemon, body.selection(), body.batch_options(), label=body.label, source=body.source)


@router.get("", response_model=BatchList, responses=_ERRORS)
async def list_batches(
    daemon: Daemon,
    status: BatchStatus | None = None,
    before: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> BatchList:
    """Batches newest first with their counts."""
    batches = await daemon.store.batches.list(limit=limit, before_id=before, status=status)
    next_before = batches[-1].id if len(batches) == limit else None
    return BatchList(batches=batches, next_before=next_before)


@router.get("/{batch_id}", response_model=Batch, responses=_ERRORS)
async def get_batch(daemon: Daemon, batch_id: PathId) -> Batch:
    """The batch with its counts."""
    return await batch_or_404(daemon, batch_id)


@router.post("/{batch_id}/cancel", response_model=CancelResult, responses=_ERRORS)
async def cancel_batch(daemon: Daemon, batch_id: PathId) -> CancelResult:
    """Cancel every queued and running run of the batch."""
    await batch_or_404(daemon, batch_id)
    return CancelResult(cancelled=await daemon.engine.cancel_batch(batch_id))


@router.post("/{batch_id}/retry", status_code=202, response_model=BatchCreated, responses=_ERRORS)
async def retry_batch(daemon: Daemon, batch_id: PathId, body: RetryRequest | None = None) -> BatchCreated:
    """Queue the batch's tests again (only those that failed or errored with ``failed_only``)."""
    body = body or RetryRequest()
    await batch_or_404(daemon, batch_id)
    status = _NOT_PASSED if body.failed_only else None
    runs = await daemon.store.runs.page(status=status, batch_id=batch_id, limit=_ALL_RUNS)
    test_ids = sorted({run.test_id for run in runs if run.test_id is not None})
    if not test_ids:
        what = "failed or errored runs" if body.failed_only else "runs of tests that still exist"
        raise ApiError(409, "nothing_to_retry", f"batch {batch_id} has no {what}")
    label = f"retry of batch {batch_id}" + (" (failed)" if body.failed_only else "")
    return await submit(daemon, Selection(ids=test_ids), body.batch_options(), label=label, source="retry")


async def _all_runs(daemon: Daemon, batch_id: int) -> list[Run]:
    # page() is newest first; exports and reports read in run order.
    return list(reversed(await daemon.store.runs.page(batch_id=batch_id, limit=_ALL_RUNS)))


@router.get(
    "/{batch_id}/export",
    response_class=Response,
    responses={
        **_ERRORS,
        200: {"content": {"text/csv": {}, "application/json": {}, "application/xml": {}, "text/html": {}}},
    },
)
async def export_batch(
    daemon: Daemon,
    batch_id: PathId,
    format: Annotated[Literal["csv", "json", "junit", "html"], Query()] = "json",
) -> Response:
    """The batch's runs as CSV, JSON (without test snapshots), JUnit XML, or one self-contained HTML
    report (summary, a row per run, failing checks, transcripts, flaky tests flagged)."""
    batch = await batch_or_404(daemon, batch_id)
    runs = await _all_runs(daemon, batch_id)
    if format == "html":
        flaky = set(await flaky_now(daemon))
        report = build_report(batch, runs)
        return Response(html_report(report, runs, flaky), media_type="text/html; charset=utf-8")
    if format == "csv":
        return Response(runs_csv(runs), media_type="text/csv; charset=utf-8")
    if format == "junit":
        return Response(junit_xml(batch, runs), media_type="application/xml")
    return Response(runs_json(batch, runs), media_type="application/json")


@router.get("/{batch_id}/report", response_model=BatchReport, responses=_ERRORS)
async def report_batch(
    daemon: Daemon,
    batch_id: PathId,
    slowest: Annotated[int, Query(ge=0, le=1000)] = 5,
    failures: Annotated[int, Query(ge=0, le=10_000)] = 20,
) -> BatchReport:
    """Counts, pass rate, score distribution, slowest runs and failures with their first failing check."""
    batch = await batch_or_404(daemon, batch_id)
    return build_report(batch, await _all_runs(daemon, batch_id), slowest, failures)
