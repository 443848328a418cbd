"""The ``http`` executor: one request, checks on the response."""

from __future__ import annotations

from collections.abc import Iterable

from callboard.core.checks import evaluate_http_checks
from callboard.core.execution.base import Job, Outcome, RunError, TransientError
from callboard.core.execution.http_client import EXCERPT_BYTES, HttpClientPool, HttpReply
from callboard.core.execution.http_errors import body_gist, parse_retry_after
from callboard.core.models import CheckBase, CheckResult, HttpTest
from callboard.core.models.checks import StatusCheck

IMPLICIT_STATUS_CHECK = "status < 400"


class HttpExecutor:
    """Sends each test's request through the shared pool and judges the reply."""

    kind = "http"

    def __init__(self, pool: HttpClientPool) -> None:
        self._pool = pool

    async def execute(self, job: Job) -> Outcome:
        """Send the request; 5xx/429 (unless expected) and connection failures raise TransientError."""
        test = job.test
        if not isinstance(test, HttpTest):
            raise RunError("internal", f"the http executor cannot run a {test.kind} test")
        request = test.request
        reply = await self._pool.request(
            request.method,
            request.url,
            headers=request.headers,
            params=request.params,
            json=request.json_body,
            content=request.body,
            data=request.form,
            # The attempt's deadline (the test's timeout_s) already bounds the request: a second timer
            # per request in aiohttp was 2 % of the engine loop's samples at 2,000 requests/s.
            timeout=None,
        )
        raise_if_transient(reply, test.checks)
        checks = evaluate_http_checks(test.checks, reply) if test.checks else [_implicit_status(reply)]
        # The reply explains a failure; a passing run keeps none of it, so none is made.
        failed = not all(check.passed for check in checks)
        return Outcome(
            checks=checks,
            metrics={"latency_ms": round(reply.elapsed_ms, 3), "status": float(reply.status)},
            diagnostics=_diagnostics(reply) if failed else {},
        )

    async def aclose(self) -> None:
        """Close the shared pool (idempotent, so every executor sharing it may call this)."""
        await self._pool.aclose()


def raise_if_transient(reply: HttpReply, checks: Iterable[CheckBase]) -> None:
    """Raise TransientError for a 5xx or 429 reply, unless a status check expects that very status."""
    if reply.status < 500 and reply.status != 429:
        return
    for check in checks:
        if isinstance(check, StatusCheck):
            expected = check.status if isinstance(check.status, list) else [check.status]
            if reply.status in expected:
                return
    gist = body_gist(reply.text, reply.headers.get("Content-Type", ""))
    message = f"the server answered {reply.status}" + (f": {gist}" if gist else "")
    retry_after = parse_retry_after(reply.headers.get("Retry-After")) if reply.status == 429 else None
    raise TransientError("rate_limited" if reply.status == 429 else "server_error", message, retry_after)


def _implicit_status(reply: HttpReply) -> CheckResult:
    # A test with no checks still says something: the request succeeded.
    passed = reply.status < 400
    message = "" if passed else f"status was {reply.status}"
    return CheckResult(
        name=IMPLICIT_STATUS_CHECK, passed=passed, expected="< 400", actual=reply.status, message=message
    )


def _diagnostics(reply: HttpReply) -> dict[str, str]:
    return {"response_excerpt": reply.excerpt(), "response_headers": _headers_text(reply)}


def _headers_text(reply: HttpReply) -> str:
    lines = "\n".join(f"{name}: {value}" for name, value in reply.headers.items())
    return lines[:EXCERPT_BYTES]
