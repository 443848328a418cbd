"""``GET /v1/health``: the daemon answers, with its version, pid and where it lives; ``GET
/v1/settings``: the settings it started with (secrets masked), so clients can tell when they differ."""

from __future__ import annotations

import os
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from callboard.core.api.deps import Daemon
from callboard.core.config import masked
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


class DaemonSettingsView(BaseModel):
    """The settings the daemon runs with, as ``callboard config check --json`` prints them."""

    settings: dict[str, Any]


@router.get("/settings", response_model=DaemonSettingsView)
async def settings(daemon: Daemon) -> DaemonSettingsView:
    """The settings the daemon started with (it keeps them until restarted), secrets masked."""
    return DaemonSettingsView(settings=masked(daemon.settings))
