"""One-line words for what went wrong with an HTTP request: a connection failure without aiohttp's
internals (``ssl:default`` on a plain-http URL), and a 5xx reply's body cut to its gist (an HTML error
page becomes its title, not 200 characters of markup); and how long a reply asks us to wait."""

from __future__ import annotations

import html
import os
import re
import socket
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

import aiohttp

from callboard.core.wording import shorten

_REASON_CHARS = 160
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_DROPPED = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _one_line(text: str) -> str:
    return shorten(_SPACE.sub(" ", text).strip(), _REASON_CHARS)


def body_gist(text: str, content_type: str = "") -> str:
    """A reply body as one short line: an HTML page's title (or first heading, or its text without
    tags), anything else with its whitespace collapsed."""
    looks_html = "html" in content_type.lower() or text.lstrip()[:1] == "<"
    if not looks_html:
        return _one_line(text)
    for pattern in (_TITLE, _HEADING):
        found = pattern.search(text)
        if found and _TAG.sub("", found.group(1)).strip():
            return _one_line(html.unescape(_TAG.sub("", found.group(1))))
    return _one_line(html.unescape(_TAG.sub(" ", _DROPPED.sub(" ", text))))


def _os_reason(error: OSError) -> str:
    if isinstance(error, socket.gaierror) or not error.errno or error.errno < 0:
        return error.strerror or str(error) or type(error).__name__
    return os.strerror(error.errno)


def connection_failure(exc: BaseException) -> str:
    """Why a request could not be carried out, in one line (TLS details only where TLS was used)."""
    if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(exc, aiohttp.ClientSSLError):
        return f"cannot connect to {exc.host}:{exc.port}: {_os_reason(exc.os_error)}"
    text = str(exc) or type(exc).__name__
    return _one_line(text)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay in seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
