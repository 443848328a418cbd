"""``POST /v1/maintenance/prune``: delete old history now (as the retention schedule does)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.core.api.deps import Daemon
from callboard.core.api.errors import ApiError
from callboard.core.models.api import ErrorResponse, PruneRequest, PruneResponse
from callboard.core.services.housekeeping import prune_history

router = APIRouter(prefix="/v1/maintenance", tags=["maintenance"])


_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "Nothing to prune by: no limits given or configured."},
    422: {"model": ErrorResponse},
}


@router.post("/prune", response_model=PruneResponse, responses=_ERRORS)
async def prune_now(daemon: Daemon, body: PruneRequest | None = None) -> PruneResponse:
    """Delete finished batches older than ``days`` or beyond ``max_runs`` runs (default: the retention
    settings), then give the space back (a chunk at a time; writes and requests go on meanwhile)."""
    body = body or PruneRequest()
    retention = daemon.settings.retention
    days = body.days if body.days is not None else retention.days
    max_runs = body.max_runs if body.max_runs is not None else retention.max_runs
    if days is None and max_runs is None:
        raise ApiError(409, "conflict", "nothing to prune by: give days or max_runs, or set retention.*")
    result = await prune_history(daemon.store, days, max_runs)
    return PruneResponse(batches=result.batches, runs=result.runs, vacuumed=result.vacuumed)
