"""The FastAPI app of API v1 (its OpenAPI document is at ``/openapi.json``)."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import FastAPI

from callboard.core.api.body_limit import BodyLimit
from callboard.core.api.errors import install_error_handlers
from callboard.core.api.routes import (
    batches,
    events,
    health,
    history,
    maintenance,
    queue,
    runs,
    schedules,
    tests,
)
from callboard.core.api.state import DaemonState


def create_app(daemon: DaemonState) -> FastAPI:
    """The API over one running daemon."""
    app = FastAPI(
        title="callboard",
        version=version("callboard"),
        description="Run test suites against phone agents and HTTP agents/APIs, in batches.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.daemon = daemon
    for module in (health, tests, batches, runs, queue, schedules, history, maintenance, events):
        app.include_router(module.router)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=daemon.settings.daemon.max_request_kb * 1024)
    return app
