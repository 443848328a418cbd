"""The demo agent's HTTP app: /health, /hours and /chat, with a configurable per-request latency."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from callboard.core.demo.receptionist import OPENING_HOURS, SessionStore, reply_to

_SESSIONS = web.AppKey("sessions", SessionStore)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(latency_ms: float = 0.0, max_sessions: int = 10_000) -> web.Application:
    """The demo agent app; every request waits ``latency_ms`` before it is answered."""
    delay_s = max(latency_ms, 0.0) / 1000.0

    @web.middleware
    async def latency_and_errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if delay_s:
            await asyncio.sleep(delay_s)
        try:
            return await handler(request)
        except web.HTTPException as exc:
            # Routing errors (404, 405) answer in JSON like everything else.
            if exc.status < 400:
                raise
            return web.json_response({"error": exc.reason}, status=exc.status, headers=_allow(exc))

    app = web.Application(middlewares=[latency_and_errors])
    app[_SESSIONS] = SessionStore(max_sessions)
    app.router.add_get("/health", _health)
    app.router.add_get("/hours", _hours)
    app.router.add_post("/chat", _chat)
    return app


def _allow(exc: web.HTTPException) -> dict[str, str]:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else {}


SERVICE = "callboard-demo-agent"


async def _health(request: web.Request) -> web.Response:
    # ``service`` tells callboard's own demo agent from any other server on the port.
    return web.json_response({"status": "ok", "service": SERVICE})


async def _hours(request: web.Request) -> web.Response:
    return web.json_response(OPENING_HOURS)


async def _chat(request: web.Request) -> web.Response:
    try:
        payload = json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _bad_request('the body must be JSON: {"message": str, "session_id": str | null}')
    if not isinstance(payload, dict):
        return _bad_request("the body must be a JSON object")
    message = payload.get("message")
    session_id = payload.get("session_id")
    if not isinstance(message, str) or not message.strip():
        return _bad_request("'message' must be a non-empty string")
    if session_id is not None and not isinstance(session_id, str):
        return _bad_request("'session_id' must be a string or null")
    session_id, session = request.app[_SESSIONS].open(session_id)
    return web.json_response({"reply": reply_to(session, message), "session_id": session_id})


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def run_demo_agent(host: str = "127.0.0.1", port: int = 8700, latency_ms: float = 0.0) -> None:
    """Serve the demo agent until SIGINT/SIGTERM; prints the address it listens on (port 0 picks one)."""
    asyncio.run(_serve(host, port, latency_ms))


async def _serve(host: str, port: int, latency_ms: float) -> None:
    # access_log=None: logging every request would cost more CPU than answering it.
    runner = web.AppRunner(create_app(latency_ms), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        print(
            f"demo agent listening on http://{bound_host}:{bound_port} (latency {latency_ms:g} ms)",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
