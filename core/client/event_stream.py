"""The daemon's event stream, read with httpx-sse: no read timeout (the daemon sends keep-alives),
and on a dropped connection a reconnect with backoff that resumes from ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse
from pydantic import ValidationError

from callboard.core.models.events import AnyEvent, parse_event

_FIRST_BACKOFF_S = 0.2
_MAX_BACKOFF_S = 5.0
_STREAM_TIMEOUT = httpx.Timeout(connect=5.0, read=None, write=5.0, pool=5.0)


class StreamEnded(Exception):
    """The stream dropped and the client asked not to reconnect."""


class EventStream:
    """Async-iterate for events; ``on_connection(True|False)`` hears when the link comes and goes."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        socket: Path,
        last_id: int | None,
        *,
        reconnect: bool,
        params: dict[str, Any] | None = None,
    ) -> None:
        self._http = http
        self._params = params or {}
        self._socket = socket
        self.last_id = last_id
        self._reconnect = reconnect
        self.on_connection: Callable[[bool], None] | None = None

    def _tell(self, *, connected: bool) -> None:
        if self.on_connection is not None:
            self.on_connection(connected)

    async def __aiter__(self) -> AsyncIterator[AnyEvent]:
        backoff = _FIRST_BACKOFF_S
        while True:
            headers = {} if self.last_id is None else {"Last-Event-ID": str(self.last_id)}
            try:
                async with aconnect_sse(
                    self._http,
                    "GET",
                    "/v1/events",
                    headers=headers,
                    params=self._params,
                    timeout=_STREAM_TIMEOUT,
                ) as source:
                    source.response.raise_for_status()
                    self._tell(connected=True)
                    backoff = _FIRST_BACKOFF_S
                    async for sse in source.aiter_sse():
                        if not sse.data:
                            continue
                        try:
                            event = parse_event(sse.data)
                        except ValidationError:
                            continue  # a kind of event this client does not know yet
                        self.last_id = event.id
                        yield event
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                if not self._reconnect:
                    raise StreamEnded(f"event stream from {self._socket} ended: {exc}") from None
            else:
                if not self._reconnect:
                    raise StreamEnded(f"event stream from {self._socket} ended")
            self._tell(connected=False)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
