"""The run errors a failed Twilio request becomes: retryable only when Twilio certainly placed no call."""

from __future__ import annotations

from callboard.core.execution.base import RateLimited, RunError, TransientError
from callboard.core.telephony import errors
from callboard.core.telephony.errors import describe

AUTH_HINT = (
    "check twilio.account_sid with twilio.auth_token (or twilio.api_key with twilio.api_secret); "
    "environment: CALLBOARD_TWILIO__AUTH_TOKEN / CALLBOARD_TWILIO__API_SECRET"
)


def create_error(exc: Exception) -> Exception:
    """The run error for a failed create: retryable only when Twilio certainly placed no call."""
    if errors.is_rate_limited(exc):
        # Waited out by the engine for as long as it takes: a rate limit never fails a test.
        message = f"Twilio is rate limiting calls: {describe(exc)}"
        return RateLimited("rate_limited", message, errors.retry_after_s())
    if errors.is_server_error(exc):
        return TransientError("twilio_unavailable", f"Twilio could not place the call: {describe(exc)}")
    if errors.not_sent(exc):
        return TransientError("network", describe(exc))
    if errors.is_retryable(exc):
        # A network failure after the request went out: Twilio may have placed the call, and a retry
        # could dial a second one.
        message = f"no answer to the create request, not retried: {describe(exc)}"
        return RunError("call_create_unknown", message)
    code = errors.twilio_code(exc)
    if errors.http_status(exc) in (401, 403):
        return RunError(f"twilio_{code}", f"Twilio refused the credentials: {describe(exc)}; {AUTH_HINT}")
    if code is not None:
        return RunError(f"twilio_{code}", f"Twilio refused the call: {describe(exc)}")
    return exc


def watch_error(sid: str, exc: BaseException) -> RunError:
    if errors.http_status(exc) == 404:
        return RunError("call_not_found", f"Twilio has no call {sid} on this account")
    if errors.http_status(exc) in (401, 403):
        return RunError("twilio_auth", f"Twilio refused the credentials: {describe(exc)}; {AUTH_HINT}")
    code = errors.twilio_code(exc)
    return RunError(f"twilio_{code}" if code else "twilio", f"watching call {sid}: {describe(exc)}")
