"""The ASGI app: Twilio's two API domains on one server, Twilio-shaped errors, and /_sim admin routes.

Admin routes (not Twilio's): ``GET /_sim/health`` (no auth), ``GET /_sim/calls`` (every call created,
oldest first, with its status and conversation so far — to assert e.g. "exactly one call for that run"),
``POST /_sim/reset`` (forget everything). The last two take the same Basic credentials as the API.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callboard.core.simulator import api_intelligence, api_voice, media_streams, scripted_model, transcription
from callboard.core.simulator.config import SimulatorConfig
from callboard.core.simulator.errors import TwilioError, not_found
from callboard.core.simulator.state import Simulator
from callboard.core.simulator.web import authorize, simulator


def create_app(config: SimulatorConfig | None = None) -> Starlette:
    """The simulator as an ASGI app; its state lives on ``app.state.simulator``."""
    app = Starlette(
        routes=[
            *api_voice.ROUTES,
            *api_intelligence.ROUTES,
            *_ADMIN_ROUTES,
            *media_streams.ROUTES,
            *transcription.ROUTES,
            *scripted_model.ROUTES,
        ],
        exception_handlers={
            TwilioError: _twilio_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.simulator = Simulator(config or SimulatorConfig())
    return app


async def _health(request: Request) -> Response:
    sim = simulator(request)
    return JSONResponse({"status": "ok", "time_scale": sim.config.time_scale})


async def _calls(request: Request) -> Response:
    sim = authorize(request)
    return JSONResponse({"calls": sim.admin_view(sim.clock.now())})


async def _reset(request: Request) -> Response:
    sim = authorize(request)
    sim.reset()
    return JSONResponse({"reset": True})


_ADMIN_ROUTES = [
    Route("/_sim/health", _health, methods=["GET"]),
    Route("/_sim/calls", _calls, methods=["GET"]),
    Route("/_sim/reset", _reset, methods=["POST"]),
]


async def _twilio_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TwilioError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    # Routing errors (unknown path, wrong method) answer in Twilio's shape like everything else.
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return not_found(request.url.path).response()
    if exc.status_code == 405:
        return TwilioError(405, 20004, "Method not allowed").response()
    return TwilioError(exc.status_code, exc.status_code, str(exc.detail)).response()


async def _server_error(request: Request, exc: Exception) -> Response:
    return TwilioError(500, 20500, "Internal Server Error").response()
