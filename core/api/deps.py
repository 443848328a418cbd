"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from callboard.core.api.state import DaemonState


def _daemon(request: Request) -> DaemonState:
    state: DaemonState = request.app.state.daemon
    return state


Daemon = Annotated[DaemonState, Depends(_daemon)]
"""The daemon's state, injected into a handler."""

# SQLite integers are 64-bit: a larger id can name nothing, and must not reach the database.
MAX_ID = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A resource id in the path."""

QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
"""An optional id in the query string (a filter or a page boundary)."""
