"""HTTP/1.1 over the daemon's Unix socket: asyncio streams framed by h11, with kept-alive connections.

The client talks to one server only, its own daemon, on a local socket: no TLS, proxies, redirects,
cookies or compression. A general client (httpx) brings all of those to every command's start-up
(and httpcore imports trio whenever it is installed); this one costs a few milliseconds to import.
"""

from __future__ import annotations

import asyncio
import json
import select
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import h11

CONNECT_TIMEOUT_S = 5.0
_READ_SIZE = 65536


class TransportError(Exception):
    """The socket could not be reached, or the connection broke before a whole answer came."""


@dataclass
class HttpResponse:
    """A whole answer: status, headers (lower-case names) and body."""

    status_code: int
    reason_phrase: str
    headers: dict[str, str]
    content: bytes = b""

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (ValueError when it is not)."""
        return json.loads(self.content)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    h11: h11.Connection = field(default_factory=lambda: h11.Connection(our_role=h11.CLIENT))
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)

    def on_this_loop(self) -> bool:
        """Made on the running event loop (a connection lives and dies with the loop that made it: a
        client used by apps that each run a loop of their own must not carry one over)."""
        return self.loop is asyncio.get_running_loop()

    def reusable(self) -> bool:
        """Idle on both sides, and not closed by the daemon meanwhile (it closes idle ones, and a
        restarted daemon is another server): an idle connection with something to read has been
        closed, whether or not the event loop has seen it yet."""
        if not self.on_this_loop():
            return False
        if not (self.h11.our_state is h11.IDLE and self.h11.their_state is h11.IDLE):
            return False
        if self.reader.at_eof() or self.writer.is_closing():
            return False
        sock = self.writer.get_extra_info("socket")
        if sock is None:
            return True
        poller = select.poll()  # not select.select: it fails for descriptors past 1023
        poller.register(sock.fileno(), select.POLLIN)
        return not poller.poll(0)

    async def next_event(self) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.h11.receive_data(await self.reader.read(_READ_SIZE))

    def close(self) -> None:
        self.writer.close()


def _target(path: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return path
    # As httpx encodes them: a list repeats its key, booleans are lower case.
    encoded = {
        key: [_plain(item) for item in value] if isinstance(value, list) else _plain(value)
        for key, value in params.items()
    }
    return f"{path}?{urlencode(encoded, doseq=True)}"


def _plain(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


class UnixHttp:
    """Requests to the server on ``socket``; connections are kept alive and reused."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self._idle: list[_Connection] = []

    async def _connect(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable():
                return connection
            if connection.on_this_loop():
                connection.close()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                reader, writer = await asyncio.open_unix_connection(str(self.socket))
        except TimeoutError:
            raise TransportError(f"cannot connect within {CONNECT_TIMEOUT_S:g} s") from None
        except OSError as exc:
            raise TransportError(f"cannot connect: {exc.strerror or exc}") from None
        return _Connection(reader, writer)

    @asynccontextmanager
    async def _exchange(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> AsyncIterator[tuple[_Connection, HttpResponse]]:
        """Send a request and read the head of its answer; the body is the caller's to read. The
        connection goes back to the idle ones only when the whole answer was read."""
        connection = await self._connect()
        done = False
        try:
            try:
                answer = await _send(connection, method, target, body, headers)
                response = HttpResponse(
                    answer.status_code,
                    answer.reason.decode("latin-1"),
                    {name.decode("latin-1"): value.decode("latin-1") for name, value in answer.headers},
                )
                yield connection, response
            except (OSError, h11.ProtocolError) as exc:
                raise TransportError(str(exc) or type(exc).__name__) from None
            done = connection.h11.their_state is h11.DONE
            if done:
                connection.h11.start_next_cycle()
        finally:
            if done and connection.reusable():
                self._idle.append(connection)
            else:
                connection.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        timeout_s: float | None,
    ) -> HttpResponse:
        """One request and its whole answer within ``timeout_s`` (None: as long as it takes); raises
        TransportError, or TimeoutError."""
        body = None if json_body is None else _json_bytes(json_body)
        async with asyncio.timeout(timeout_s):
            async with self._exchange(method, _target(path, params), body, {}) as (connection, response):
                chunks = []
                while not isinstance(event := await connection.next_event(), h11.EndOfMessage):
                    if not isinstance(event, h11.Data):
                        raise TransportError("the connection closed in the middle of an answer")
                    chunks.append(bytes(event.data))
                response.content = b"".join(chunks)
        return response

    @asynccontextmanager
    async def stream(
        self, path: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[tuple[HttpResponse, AsyncIterator[bytes]]]:
        """A GET whose body is read as it comes, with no read timeout (the event stream sends
        keep-alives); the chunks end with TransportError when the connection breaks."""
        exchange = self._exchange("GET", _target(path, params), None, headers or {})
        async with exchange as (connection, response):
            yield response, _chunks(connection)

    async def aclose(self) -> None:
        """Close the kept-alive connections."""
        idle, self._idle = self._idle, []
        for connection in idle:
            if not connection.on_this_loop():
                continue  # its loop has ended, and its transport with it
            connection.close()
            with suppress(OSError):
                await connection.writer.wait_closed()


async def _send(
    connection: _Connection, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
) -> h11.Response:
    fields = [("Host", "callboard"), ("Accept", "*/*"), *headers.items()]
    if body is not None:
        fields += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    parts = [connection.h11.send(h11.Request(method=method, target=target, headers=fields))]
    if body is not None:
        parts.append(connection.h11.send(h11.Data(data=body)))
    parts.append(connection.h11.send(h11.EndOfMessage()))
    connection.writer.write(b"".join(part for part in parts if part))
    await connection.writer.drain()
    event = await connection.next_event()
    while isinstance(event, h11.InformationalResponse):
        event = await connection.next_event()
    if not isinstance(event, h11.Response):
        raise TransportError("the connection closed before an answer")
    return event


async def _chunks(connection: _Connection) -> AsyncIterator[bytes]:
    try:
        while isinstance(event := await connection.next_event(), h11.Data):
            yield bytes(event.data)
    except (OSError, h11.ProtocolError) as exc:
        raise TransportError(str(exc) or type(exc).__name__) from None
    if not isinstance(event, h11.EndOfMessage):
        raise TransportError("the connection closed in the middle of the stream")


def _json_bytes(value: Any) -> bytes:
    # As httpx sends JSON: compact, UTF-8, no NaN.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
