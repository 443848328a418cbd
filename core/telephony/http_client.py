"""twilio's asynchronous HTTP client interface, on httpx, with Twilio's hosts pointed where we say.

The twilio library builds absolute URLs on ``https://api.twilio.com`` and ``https://intelligence.twilio.com``
(with a region or edge label when its environment asks for one). This client sends those requests to the
configured base URL of each domain instead, so the same code talks to Twilio or to the simulator.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from urllib.parse import urlencode

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"
TWILIO_INTELLIGENCE = "https://intelligence.twilio.com"
DEFAULT_TIMEOUT_S = 30.0
# api.twilio.com, api.dublin.ie1.twilio.com, intelligence.twilio.com, ...: the first label names the domain.
_TWILIO_URL = re.compile(r"^https://(api|intelligence)((?:\.[A-Za-z0-9-]+)*)\.twilio\.com(?=[/?]|$)")

# The last response seen by the current task. The twilio library turns an error response into an
# exception without its headers; this keeps Retry-After readable. Per task, since one client serves
# many calls at once.
_last_response: ContextVar[Response | None] = ContextVar("callboard_twilio_last_response", default=None)

# Only the base class's log_request/log_response helpers write here, and this client never calls them:
# requests carry credentials and call details that have no place in callboard's logs.
_log = logging.getLogger(__name__)


def last_response_headers() -> Mapping[str, str]:
    """The headers of the last Twilio response this task received (empty when there was none)."""
    response = _last_response.get()
    headers = response.headers if response is not None else None
    return headers if isinstance(headers, Mapping) else {}


class HttpxTwilioClient(AsyncHttpClient):
    """An ``AsyncHttpClient`` for ``twilio.rest.Client`` on one pooled ``httpx.AsyncClient``."""

    def __init__(
        self,
        api_base_url: str = TWILIO_API,
        intelligence_base_url: str = TWILIO_INTELLIGENCE,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network (tests); base URLs may carry a path prefix."""
        super().__init__(logger=_log, is_async=True, timeout=timeout)
        self._bases = {"api": api_base_url.rstrip("/"), "intelligence": intelligence_base_url.rstrip("/")}
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)

    def rewrite(self, url: str) -> str:
        """``url`` with a Twilio API or Intelligence host replaced by the configured base URL."""
        match = _TWILIO_URL.match(url)
        if match is None:
            return url
        return self._bases[match.group(1)] + url[match.end() :]

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (twilio's AsyncHttpClient.request signature)
        allow_redirects: bool = False,  # noqa: FBT001, FBT002 (the same signature)
    ) -> Response:
        """Send one request as the twilio library describes it; list values become repeated keys."""
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        body = urlencode(form_pairs(data)) if data else None
        reply = await self._client.request(
            method.upper(),
            self.rewrite(uri),
            params=tuple(form_pairs(params)) if params else None,
            content=body,
            headers=headers,
            auth=httpx.BasicAuth(*auth) if auth is not None else None,
            timeout=timeout if timeout is not None else self.timeout,
            follow_redirects=allow_redirects,
        )
        response = Response(reply.status_code, reply.text, reply.headers)
        _last_response.set(response)
        return response

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def form_pairs(values: Mapping[str, object]) -> list[tuple[str, str]]:
    """Form fields as (key, value) pairs: lists repeat the key, booleans read true/false, None is left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, _form_text(item)) for item in items if item is not None)
    return pairs


def _form_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
