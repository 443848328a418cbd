"""The daemon's event stream: no read timeout (the daemon sends keep-alives), and on a dropped
connection a reconnect with backoff that resumes from ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from callboard.core.client.http11 import TransportError, UnixHttp
from callboard.core.client.sse import SseDecoder
from callboard.core.models.events import AnyEvent, parse_event

_FIRST_BACKOFF_S = 0.2
_MAX_BACKOFF_S = 5.0


class StreamEnded(Exception):
    """The stream dropped and the client asked not to reconnect."""


class EventStream:
    """Async-iterate for events; ``on_connection(True|False)`` hears when the link comes and goes."""

    def __init__(
        self,
        http: UnixHttp,
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
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
            if self.last_id is not None:
                headers["Last-Event-ID"] = str(self.last_id)
            try:
                async with self._http.stream("/v1/events", params=self._params, headers=headers) as (
                    response,
                    chunks,
                ):
                    if response.status_code >= 400:
                        raise TransportError(f"HTTP {response.status_code} {response.reason_phrase}")
                    self._tell(connected=True)
                    backoff = _FIRST_BACKOFF_S
                    decoder = SseDecoder()
                    async for chunk in chunks:
                        for data in decoder.feed(chunk):
                            try:
                                event = parse_event(data)
                            except ValidationError:
                                continue  # a kind of event this client does not know yet
                            self.last_id = event.id
                            yield event
            except TransportError as exc:
                if not self._reconnect:
                    raise StreamEnded(f"event stream from {self._socket} ended: {exc}") from None
            else:
                if not self._reconnect:
                    raise StreamEnded(f"event stream from {self._socket} ended")
            self._tell(connected=False)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
