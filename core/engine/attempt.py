"""One attempt of one run: the executor under a timeout, transient errors retried with backoff,
and the outcome turned into a result with status and score."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from callboard.core.engine.retry import Backoff
from callboard.core.execution.base import Executor, Job, Outcome, RateLimited, RunError, TransientError
from callboard.core.models import RunResult, RunStatus, score

log = logging.getLogger(__name__)
# Past this many doublings the backoff is at its cap anyway; the exponent stays small.
_MAX_DOUBLINGS = 16


def result_from_outcome(outcome: Outcome, retries: int) -> RunResult:
    """Passed when every check held, failed otherwise; score is the weighted share passed. The outcome's
    diagnostics join its artifacts only when the run did not pass."""
    passed = all(check.passed for check in outcome.checks)
    metrics = dict(outcome.metrics)
    if retries:
        metrics["retries"] = retries
    return RunResult(
        status=RunStatus.PASSED if passed else RunStatus.FAILED,
        checks=outcome.checks,
        score=score(outcome.checks),
        metrics=metrics,
        transcript=outcome.transcript,
        artifacts=outcome.artifacts if passed else {**outcome.artifacts, **outcome.diagnostics},
    )


def error_result(kind: str, message: str, retries: int = 0) -> RunResult:
    """A run that could not be carried out."""
    metrics = {"retries": float(retries)} if retries else {}
    return RunResult(status=RunStatus.ERROR, error_kind=kind, error_message=message, metrics=metrics)


async def run_attempt(
    executor: Executor,
    job: Job,
    max_retries: int,
    backoff: Backoff,
    before_retry: Callable[[Job], Awaitable[Job]] | None = None,
) -> RunResult:
    """Execute the job, retrying transient errors up to ``max_retries`` times; ``before_retry`` counts
    each retry (it returns the job of the next attempt) before it starts.

    A failed check is a result and is never retried. Cancellation propagates to the caller.
    """
    retries = 0
    waits = 0  # rate-limit waits: not retries
    while True:
        try:
            async with asyncio.timeout(job.timeout_s):
                outcome = await executor.execute(job)
            return result_from_outcome(outcome, retries)
        except RateLimited as exc:
            waits += 1
            delay = backoff.delay(min(waits, _MAX_DOUBLINGS), exc.retry_after)
            log.info("run %s: rate limited (%s); waiting %.2fs", job.run_id, exc.message, delay)
            await asyncio.sleep(delay)
        except TransientError as exc:
            if retries >= max_retries:
                suffix = f" (after {retries} retries)" if retries else ""
                return error_result(exc.kind, exc.message + suffix, retries)
            retries += 1
            delay = backoff.delay(retries, exc.retry_after)
            log.debug("run %s: %s; retry %d in %.2fs", job.run_id, exc.message, retries, delay)
            await asyncio.sleep(delay)
            if before_retry is not None:
                job = await before_retry(job)
        except RunError as exc:
            return error_result(exc.kind, exc.message, retries)
        except TimeoutError:
            return error_result("timeout", f"no result within {job.timeout_s:g} s", retries)
        except Exception as exc:  # an executor bug must end this run, never the engine
            log.exception("run %s: executor failed", job.run_id)
            return error_result("internal", f"{type(exc).__name__}: {exc}", retries)


def monotonic_ms(start: float) -> float:
    """Milliseconds since ``start`` (a time.monotonic() value)."""
    return round((time.monotonic() - start) * 1000.0, 3)
