"""One claimed run on a worker: the executor under its attempt, every write fenced by the lease.

A write refused by the fence means the lease is gone (reaped while this worker was frozen or cut off,
or finished elsewhere): the run is dropped without another word, and nothing it would have written
reaches the database. A dial intent the fence refuses stops the call before it is placed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from enum import Enum

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from callboard.core.engine.attempt import error_result, run_attempt
from callboard.core.engine.engine import EngineConfig
from callboard.core.execution.base import Executor, Job
from callboard.core.models import RunResult, RunStatus
from callboard.core.models.definitions import TestDefinition
from callboard.core.models.dial_intent import DialIntent
from callboard.core.worker.budgets import charge_of
from callboard.core.worker.finisher import Finisher
from callboard.storage.postgres import leases
from callboard.storage.postgres.queue import Claim, Lease, call_ids_to
from callboard.storage.timestamps import to_text

log = logging.getLogger(__name__)

TAKEN_WINDOW = timedelta(days=1)


class Stop(Enum):
    """Why a run's task was cancelled from outside: what the worker then writes about it."""

    CANCELLED = "cancelled"  # a user cancelled it: finish it 'cancelled'
    LOST = "lost"  # the lease is gone: write nothing
    SHUTDOWN = "shutdown"  # the worker stops: give it back to the queue


class LeaseLost(Exception):
    """A fenced write was refused: this worker no longer holds the run."""


async def execute(
    pool: AsyncConnectionPool[AsyncConnection],
    finisher: Finisher,
    claim: Claim,
    test: TestDefinition,
    executor: Executor | None,
    config: EngineConfig,
    stop_reason: Callable[[], Stop | None],
) -> None:
    """Carry out the claimed attempt and write its outcome under the lease (in ``finisher``'s groups)."""
    lease = claim.lease()
    started = time.monotonic()

    async def fenced(write: Callable[[AsyncConnection], Awaitable[bool]]) -> None:
        async with pool.connection() as conn:
            if not await write(conn):
                raise LeaseLost(f"run {claim.run_id}: lease lost")

    async def record_external_id(external_id: str) -> None:
        await fenced(lambda conn: leases.set_external_id(conn, lease, external_id))

    async def record_dial_intent(intent: DialIntent | None) -> None:
        await fenced(lambda conn: leases.set_dial_intent(conn, lease, intent))

    async def before_retry(job: Job) -> Job:
        nonlocal lease
        async with pool.connection() as conn:
            following = await leases.next_attempt(conn, lease)
        if following is None:
            raise LeaseLost(f"run {claim.run_id}: lease lost")
        lease = following
        return replace(job, attempt=following.attempt)

    intent = claim.dial_intent if claim.external_id is None else None
    taken: frozenset[str] = frozenset()
    if intent is not None:
        # Calls other runs hold, on any worker; a run that held one started at most a day before.
        async with pool.connection() as conn:
            taken = await call_ids_to(conn, intent.to, to_text(intent.at - TAKEN_WINDOW), claim.run_id)
    job = Job(
        claim.run_id,
        claim.attempt,
        test,
        test.effective_timeout_s(),
        record_external_id,
        claim.external_id,
        record_dial_intent,
        intent,
        taken,
    )
    try:
        if executor is None:
            result = error_result("unsupported", f"{test.kind} tests are not supported by this worker")
        else:
            retries_left = max(0, claim.max_attempts - claim.attempt)
            result = await run_attempt(executor, job, retries_left, config.backoff, before_retry)
    except asyncio.CancelledError:
        await settle_stop(pool, lease, stop_reason(), _elapsed_ms(started))
        raise
    except LeaseLost as exc:
        log.warning("%s: dropped, its writes refused", exc)
        return
    stored = config.redactor.result(result)
    if not await finisher.finish(lease, stored, _elapsed_ms(started), charge_of(claim)):
        log.warning("run %s: lease lost before its result was written; result dropped", claim.run_id)


async def settle_stop(
    pool: AsyncConnectionPool[AsyncConnection], lease: Lease, reason: Stop | None, elapsed_ms: float | None
) -> None:
    """Write what a run stopped from outside ends as: 'cancelled' for a user's cancel, back in the queue
    at shutdown, nothing when the lease is lost (or the task was cancelled for no recorded reason)."""
    if reason is Stop.LOST or reason is None:
        return
    async with pool.connection() as conn:
        if reason is Stop.SHUTDOWN:
            await leases.requeue(conn, lease)
        else:
            cancelled = RunResult(status=RunStatus.CANCELLED, error_message="cancelled while running")
            await leases.finish(conn, lease, cancelled, elapsed_ms)


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
