"""``GET /v1/health``: the daemon answers, with its version, pid and where it lives — and 503
``store_unavailable`` while its store cannot commit (the same facts in the error's details); ``GET
/v1/settings``: the settings it started with (secrets masked), so clients can tell when they differ."""

from __future__ import annotations

import os
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from callboard.core.api.deps import Daemon
from callboard.core.api.errors import error_response
from callboard.core.config import masked
from callboard.core.models.api import ErrorResponse, Health

router = APIRouter(prefix="/v1", tags=["daemon"])

_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "The store cannot commit; details[0] is the health."}
}


@router.get("/health", response_model=Health, responses=_UNAVAILABLE)
async def health(daemon: Daemon) -> Health | JSONResponse:
    """Up and answering; 503 while the store cannot commit."""
    fault = daemon.engine.writer.fault
    answer = Health(
        status="ok" if fault is None else "store_unavailable",
        store_fault=None if fault is None else fault.describe(),
        version=version("callboard"),
        pid=os.getpid(),
        started_at=daemon.started_at,
        state_dir=str(daemon.paths.state_dir),
        socket=str(daemon.paths.socket),
    )
    if fault is None:
        return answer
    details = [answer.model_dump(mode="json")]
    return error_response(503, "store_unavailable", f"GET /v1/health: {fault.describe()}", details)


class DaemonSettingsView(BaseModel):
    """The settings the daemon runs with, as ``callboard config check --json`` prints them."""

    settings: dict[str, Any]


@router.get("/settings", response_model=DaemonSettingsView)
async def settings(daemon: Daemon) -> DaemonSettingsView:
    """The settings the daemon started with (it keeps them until restarted), secrets masked."""
    return DaemonSettingsView(settings=masked(daemon.settings))
