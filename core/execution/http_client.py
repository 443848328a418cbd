"""The HTTP client every HTTP-speaking executor shares: one aiohttp session behind a small class.

Why aiohttp and not httpx: at concurrency 64 one httpx AsyncClient is CPU-bound in its connection pool
(encode/httpx#3215); bench/http_clients.py measures the options and aiohttp's own client is the fastest.
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp.payload import BytesPayload
from pydantic_core import PydanticSerializationError, to_json

from callboard.core.execution.base import RunError, TransientError
from callboard.core.execution.http_errors import connection_failure

EXCERPT_BYTES = 4096
# A reply bigger than this is cut (and flagged) rather than held whole in memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
_UNPARSED = object()


class HttpReply:
    """One HTTP response, read in full: status, headers (case-insensitive), text and timing."""

    __slots__ = ("_json", "elapsed_ms", "headers", "status", "text", "truncated")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        text: str,
        elapsed_ms: float,
        *,
        truncated: bool = False,
    ) -> None:
        self.status = status
        self.headers = headers
        self.text = text
        self.elapsed_ms = elapsed_ms
        self.truncated = truncated
        self._json: Any = _UNPARSED

    def json(self) -> Any:
        """The body parsed as JSON (parsed once); raises ValueError when it is not JSON."""
        if self._json is _UNPARSED:
            self._json = jsonlib.loads(self.text)
        return self._json

    def excerpt(self, limit: int = EXCERPT_BYTES) -> str:
        """The start of the body, at most ``limit`` characters, marked when cut."""
        if len(self.text) <= limit and not self.truncated:
            return self.text
        return self.text[:limit] + f"\n[... cut; {len(self.text)} characters in all]"


class HttpClientPool:
    """A shared connection pool of at most ``max_connections`` connections.

    The aiohttp session is created on first use so the pool can be built outside an event loop.
    Cookies are not kept between requests: every test starts from a clean slate. Redirects are not
    followed, so a test sees (and can check) exactly what the server answered. Proxy environment
    variables are ignored.
    """

    def __init__(self, max_connections: int = 64, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self._max_body_bytes = max_body_bytes
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RunError("internal", "the HTTP client pool is closed")
        connector = aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=0, ttl_dns_cache=300)
        # trust_env=False: looking up proxy variables on every request costs about a third of the
        # throughput (bench/http_clients.py); tests talk to their agents directly.
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        data: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpx's per-phase timeout, handed on)
    ) -> HttpReply:
        """Send one request and read the whole reply.

        At most one of ``json``, ``content`` (raw body) and ``data`` (form fields) is sent. Connection
        failures raise TransientError("connection"); running out of ``timeout`` raises
        RunError("timeout"); a request that cannot be sent at all (bad URL) raises RunError("request").
        Without ``timeout`` the caller's own deadline bounds the request (aiohttp then sets no timer).
        """
        session = self._session or self._open_session()
        started = time.perf_counter()
        try:
            body: Any = _json_body(json) if json is not None else content if content is not None else data
            async with session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                raw, truncated = await self._read_body(response)
                text = _decode(raw, response.charset)
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                # aiohttp's headers look names up case-insensitively, as the header checks need.
                return HttpReply(response.status, response.headers, text, elapsed_ms, truncated=truncated)
        except TimeoutError:
            # The request's timeout is the test's own, so running out of it ends the run: not retried.
            within = f" within {timeout:g} s" if timeout else ""
            raise RunError("timeout", f"{method} {url}: no complete reply{within}") from None
        except (aiohttp.InvalidURL, ValueError) as exc:
            raise RunError("request", f"{method} {url}: cannot send: {exc}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise TransientError("connection", f"{method} {url}: {connection_failure(exc)}") from None

    async def _read_body(self, response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
        length = response.content_length
        if length is not None and length <= self._max_body_bytes:
            return await response.read(), False  # the common case: one read, no copying
        chunks: list[bytes] = []
        room = self._max_body_bytes
        async for chunk in response.content.iter_chunked(64 * 1024):
            if len(chunk) > room:
                chunks.append(chunk[:room])
                return b"".join(chunks), True
            chunks.append(chunk)
            room -= len(chunk)
        return b"".join(chunks), False

    async def aclose(self) -> None:
        """Close every connection; later requests fail. Safe to call more than once."""
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _json_body(value: Any) -> BytesPayload:
    """``value`` as a JSON body, compact (as httpx sends it). pydantic-core's encoder, once a request on
    the engine's loop, is several times as fast as ``json.dumps``, which aiohttp's ``json=`` uses; json's
    takes what pydantic-core refuses (a lone surrogate), escaped."""
    try:
        encoded = to_json(value)
    except PydanticSerializationError:
        encoded = jsonlib.dumps(value).encode()
    return BytesPayload(encoded, content_type="application/json")


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")
