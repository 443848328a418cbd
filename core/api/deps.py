"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from callboard.core.daemon.state import DaemonState


def _daemon(request: Request) -> DaemonState:
    state: DaemonState = request.app.state.daemon
    return state


Daemon = Annotated[DaemonState, Depends(_daemon)]
"""The daemon's state, injected into a handler."""
