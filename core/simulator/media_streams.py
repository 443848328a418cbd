"""The Media Streams agent's routes: the agent's WebSocket and the truth log of what it did.

- ``WS /media`` — the demo clinic (+15550100001); ``WS /media/{number}`` — the persona and timing of any
  configured number (``SimulatorConfig.numbers``: the slow one, the one that hangs up, the silent one,
  voicemail). A number that does not answer (busy, no-answer, failed, rejected) closes the socket at once.
- ``GET /_sim/voice`` — every session's log (Basic auth, like ``/_sim/calls``):
  ``speak`` (``at_ms``, ``text``, ``audio_ms``), ``caller_speech`` (``start_ms``, ``end_ms``, ``meaning``),
  ``clear`` (``at_ms``, ``caller_onset_ms``), ``dtmf``, ``mark``, ``stop``, ``hangup``; ms since ``start``.
"""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from callboard.core.simulator.state import Simulator
from callboard.core.simulator.voice_agent import VoiceAgentSession
from callboard.core.simulator.voice_registry import VoiceRegistry
from callboard.core.simulator.web import authorize

DEFAULT_NUMBER = "+15550100001"


def voice_registry(app: Starlette) -> VoiceRegistry:
    """The app's registry of voice sessions, made on first use."""
    registry = getattr(app.state, "voice_registry", None)
    if registry is None:
        registry = app.state.voice_registry = VoiceRegistry()
    return registry


async def _media(websocket: WebSocket) -> None:
    app = websocket.scope["app"]
    simulator: Simulator = app.state.simulator
    number = websocket.path_params.get("number", DEFAULT_NUMBER)
    behaviour = simulator.config.behaviour(number)
    await websocket.accept()
    if behaviour.outcome != "answer":
        await websocket.close()
        return
    session = VoiceAgentSession(behaviour, number, voice_registry(app), websocket.send_text, websocket.close)
    try:
        while not session.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is not None:
                await session.on_message(text)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the caller went away, or the agent closed the socket while reading
    finally:
        session.finish()
        with contextlib.suppress(RuntimeError):
            await websocket.close()


async def _voice_log(request: Request) -> Response:
    authorize(request)
    sessions = voice_registry(request.app).sessions.values()
    return JSONResponse({"sessions": [log.as_json() for log in sessions]})


ROUTES: list[BaseRoute] = [
    WebSocketRoute("/media", _media),
    WebSocketRoute("/media/{number}", _media),
    Route("/_sim/voice", _voice_log, methods=["GET"]),
]
