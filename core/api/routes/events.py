"""``GET /v1/events``: Server-Sent Events with ids, ``Last-Event-ID`` resume and keep-alive comments.

A client that resumes from an id no longer buffered gets an ``events.reset`` event first: it should
re-read state from the API, then carry on with the live stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from callboard.core.api.deps import MAX_ID, Daemon
from callboard.core.api.state import DaemonState
from callboard.core.engine.events import EventsLost
from callboard.core.models.events import EventBase, EventsReset

router = APIRouter(prefix="/v1", tags=["events"])


def _frame(event: EventBase) -> bytes:
    kind = getattr(event, "type", "message")
    return f"id: {event.id}\nevent: {kind}\ndata: {event.model_dump_json()}\n\n".encode()


@dataclass(frozen=True)
class _Filter:
    types: frozenset[str]
    batch_id: int | None

    def wants(self, event: EventBase) -> bool:
        if isinstance(event, EventsReset):
            return True
        if self.types and getattr(event, "type", "") not in self.types:
            return False
        return self.batch_id is None or getattr(event, "batch_id", self.batch_id) == self.batch_id


async def _frames(
    daemon: DaemonState, events: AsyncGenerator[EventBase, None], wanted: _Filter
) -> AsyncIterator[bytes]:
    # The client's reconnect delay, and a first line so it knows the stream is open.
    yield f"retry: 1000\n: connected, last event {daemon.engine.events.last_id}\n\n".encode()
    keepalive = daemon.settings.daemon.keepalive_s
    stopping = asyncio.ensure_future(daemon.stopping.wait())
    pending: asyncio.Future[EventBase] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            waiting: set[asyncio.Future[Any]] = {pending, stopping}
            done, _ = await asyncio.wait(waiting, timeout=keepalive, return_when="FIRST_COMPLETED")
            if stopping in done:
                return
            if pending not in done:
                yield b": keep-alive\n\n"
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return  # cut off for falling behind: the client resumes from its last id
            except EventsLost as exc:
                # Carry on from the newest event as the reset says, not from whenever the next one comes.
                reset_id = daemon.engine.events.last_id
                events = daemon.engine.events.subscribe(reset_id, wanted.wants)
                event = EventsReset(id=reset_id, reason=str(exc))
            pending = None
            if wanted.wants(event):
                yield _frame(event)
    finally:
        stopping.cancel()
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        with contextlib.suppress(BaseException):
            await events.aclose()


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream."}},
)
async def events(
    daemon: Daemon,
    last_event_id: Annotated[int | None, Header(ge=0, le=MAX_ID)] = None,
    since: Annotated[int | None, Query(ge=0, le=MAX_ID, description="As the Last-Event-ID header.")] = None,
    types: Annotated[
        str | None, Query(max_length=500, description="Only these event types, comma-separated.")
    ] = None,
    batch_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only events of this batch.")] = None,
) -> StreamingResponse:
    """Every event from now on (or after ``Last-Event-ID``), as ``text/event-stream``.

    A resume from an id no longer kept starts with an ``events.reset`` event: re-read state, then go on.
    """
    last_id = last_event_id if last_event_id is not None else since
    wanted = _Filter(frozenset(filter(None, (types or "").split(","))), batch_id)
    return StreamingResponse(
        _frames(daemon, daemon.engine.events.subscribe(last_id, wanted.wants), wanted),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
