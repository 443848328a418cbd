"""``GET /v1/health``: the daemon answers, with its version, pid and where it lives."""

from __future__ import annotations

import os
from importlib.metadata import version

from fastapi import APIRouter

from callboard.core.api.deps import Daemon
from callboard.core.models.api import Health

router = APIRouter(prefix="/v1", tags=["daemon"])


@router.get("/health", response_model=Health)
async def health(daemon: Daemon) -> Health:
    """Up and answering."""
    return Health(
        version=version("callboard"),
        pid=os.getpid(),
        started_at=daemon.started_at,
        state_dir=str(daemon.paths.state_dir),
        socket=str(daemon.paths.socket),
    )
