"""Reading the failures of Twilio requests: what Twilio said, and whether asking again is safe."""

from __future__ import annotations

import httpx
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from callboard.core.execution.http_errors import parse_retry_after
from callboard.core.telephony.http_client import last_response_headers

TOO_MANY_REQUESTS = 20429
# Failures that happen before a request leaves this machine: retrying them can never repeat an action.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a Twilio error answer, None for anything else."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        return int(exc.status)
    return None


def twilio_code(exc: BaseException) -> int | None:
    """Twilio's error code (e.g. 21215, 20003), None when there is none."""
    if isinstance(exc, TwilioRestException | TwilioServiceException) and exc.code is not None:
        return int(exc.code)
    return None


def is_rate_limited(exc: BaseException) -> bool:
    """Twilio answered 429 / error 20429 (calls-per-second or concurrent-call cap)."""
    return http_status(exc) == 429 or twilio_code(exc) == TOO_MANY_REQUESTS


def is_server_error(exc: BaseException) -> bool:
    """Twilio answered with a 5xx."""
    status = http_status(exc)
    return status is not None and status >= 500


def is_retryable(exc: BaseException) -> bool:
    """Worth asking again for a read or an idempotent update: 429, 5xx, or a network failure."""
    return is_rate_limited(exc) or is_server_error(exc) or isinstance(exc, httpx.TransportError)


def not_sent(exc: BaseException) -> bool:
    """The request failed before reaching Twilio, so Twilio did nothing."""
    return isinstance(exc, _NOT_SENT)


def retry_after_s() -> float | None:
    """Seconds from the Retry-After header of the last response this task received, if it sent one."""
    # httpx's headers look names up case-insensitively.
    return parse_retry_after(last_response_headers().get("Retry-After"))


def describe(exc: BaseException) -> str:
    """One line on what went wrong, without credentials (Twilio's messages never echo them)."""
    if isinstance(exc, TwilioRestException):
        return f"{_strip_prefix(str(exc.msg))} (Twilio error {exc.code}, HTTP {exc.status})"
    if isinstance(exc, TwilioServiceException):
        text = exc.detail or exc.title
        return f"{text} (Twilio error {exc.code}, HTTP {exc.status})"
    if isinstance(exc, httpx.TransportError):
        return f"cannot reach Twilio: {type(exc).__name__}{f': {exc}' if str(exc) else ''}"
    return f"{type(exc).__name__}: {exc}"


def _strip_prefix(message: str) -> str:
    # The library prefixes Twilio's own words with "Unable to create record: " and the like.
    head, sep, tail = message.partition(": ")
    return tail if sep and head.startswith("Unable to ") else message
