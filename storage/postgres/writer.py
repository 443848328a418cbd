"""The result writer on PostgreSQL: the same fenced writes as ``storage.writer.ResultWriter``, grouped.

Writes that arrive within one tick are committed in one transaction on a pooled connection, and each
call returns once that transaction has committed. Every statement is fenced by the run's status and
attempt, so a write that no longer applies changes nothing and returns False. While the server cannot be
reached (down, restarting, no connection free) the writes are kept in order and retried with backoff;
``fault`` says why, as on SQLite, and the engine starts no run meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from callboard.core.models import RunResult
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.errors import StoreError
from callboard.storage.faults import FaultTracker, StoreFault
from callboard.storage.postgres.access import PgAccess, is_outage
from callboard.storage.timestamps import now_text, to_text
from callboard.storage.writer import (
    KEEP_LABELS,
    PendingWrite,
    finish_params,
)

log = logging.getLogger(__name__)

_MARK_STARTED = (
    "UPDATE runs SET status = 'running', attempt = %s, started_at = %s WHERE id = %s AND status = 'queued'"
)
_FINISH = """
UPDATE runs SET status = %s, finished_at = %s, duration_ms = %s, score = %s, checks = %s,
                labels_id = (SELECT id FROM check_labels WHERE labels = %s), metrics = %s, transcript = %s,
                artifacts = %s, error_kind = %s, error_message = %s, skip_reason = %s
WHERE id = %s AND status = 'running' AND attempt = %s
"""
_KEEP_LABELS = KEEP_LABELS.replace("?", "%s")
_REQUEUE = (
    "UPDATE runs SET status = 'queued', started_at = NULL"
    " WHERE id = %s AND status = 'running' AND attempt = %s"
)
_NEXT_ATTEMPT = "UPDATE runs SET attempt = %s WHERE id = %s AND status = 'running' AND attempt = %s"
_SET_EXTERNAL_ID = "UPDATE runs SET external_id = %s WHERE id = %s AND status = 'running' AND attempt = %s"
_SET_DIAL_INTENT = """
INSERT INTO dial_intents (run_id, to_number, from_number, created_at)
SELECT id, %s, %s, %s FROM runs WHERE id = %s AND status = 'running' AND attempt = %s
ON CONFLICT (run_id) DO UPDATE SET
    to_number = excluded.to_number, from_number = excluded.from_number, created_at = excluded.created_at
"""
_CLEAR_DIAL_INTENT = """
DELETE FROM dial_intents
WHERE run_id = %s AND EXISTS (SELECT 1 FROM runs WHERE id = %s AND status = 'running' AND attempt = %s)
"""
_CANCEL_QUEUED = """
UPDATE runs SET status = 'cancelled', finished_at = %s WHERE status = 'queued' AND id = ANY(%s) RETURNING id
"""
_SKIP_QUEUED = """
UPDATE runs SET status = 'skipped', skip_reason = %s, finished_at = %s
WHERE status = 'queued' AND id = ANY(%s) RETURNING id
"""
_FINISH_BATCH = "UPDATE batches SET status = %s, finished_at = %s WHERE id = %s"


class PgResultWriter:
    """Fenced run updates, committed a tick's worth at a time. Use it from the loop that started it."""

    def __init__(self, access: PgAccess, tick_ms: float) -> None:
        self._access = access
        self._tick_s = tick_ms / 1000
        self._pending: list[PendingWrite] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._faults = FaultTracker()

    @classmethod
    async def start(cls, access: PgAccess, tick_ms: float = 5.0) -> PgResultWriter:
        """A writer on the store's pool, committing from now on."""
        if tick_ms < 0:
            raise ValueError("tick_ms must be >= 0")
        writer = cls(access, tick_ms)
        writer._task = asyncio.create_task(writer._run(), name="callboard-writer postgresql")
        return writer

    def mark_started(self, run_id: int, attempt: int, started_at: datetime) -> asyncio.Future[bool]:
        """Move a queued run to running with this attempt number; False if it was not queued.
        The commit's future, handed back at once: the engine awaits it more than once, and a task
        of its own for each run's start would cost more than the write."""
        return self._enqueue(_MARK_STARTED, (attempt, to_text(started_at), run_id))

    async def finish(
        self, run_id: int, attempt: int, result: RunResult, finished_at: datetime, duration_ms: float | None
    ) -> bool:
        """Record the final result of a running run's attempt; False (nothing written) otherwise."""
        statement = finish_params(run_id, attempt, result, finished_at, duration_ms)
        prelude = None if statement.labels is None else (_KEEP_LABELS, (statement.labels,))
        return await self._enqueue(_FINISH, statement.params, prelude=prelude)

    async def requeue(self, run_id: int, attempt: int) -> bool:
        """Put a running attempt back in the queue, unfinished; False if it is not running that attempt."""
        return await self._enqueue(_REQUEUE, (run_id, attempt))

    async def next_attempt(self, run_id: int, attempt: int) -> bool:
        """Count a re-execution of a running run: ``attempt`` + 1; False if it is not running ``attempt``."""
        return await self._enqueue(_NEXT_ATTEMPT, (attempt + 1, run_id, attempt))

    async def set_external_id(self, run_id: int, attempt: int, external_id: str) -> bool:
        """Record the provider's id for the running attempt (e.g. a Twilio call SID)."""
        return await self._enqueue(_SET_EXTERNAL_ID, (external_id, run_id, attempt))

    async def set_dial_intent(self, run_id: int, attempt: int, intent: DialIntent | None) -> bool:
        """Record the call the running attempt is about to place (None: it placed none)."""
        if intent is None:
            await self._enqueue(_CLEAR_DIAL_INTENT, (run_id, run_id, attempt))
            return True
        return await self._enqueue(
            _SET_DIAL_INTENT, (intent.to, intent.from_, to_text(intent.at), run_id, attempt)
        )

    async def cancel_queued(self, run_ids: list[int]) -> list[int]:
        """Cancel those of ``run_ids`` that are still queued; returns their ids, ascending."""
        return sorted(await self._enqueue(_CANCEL_QUEUED, (now_text(), run_ids), returns_ids=True))

    async def skip_queued(self, run_ids: list[int], reason: str) -> list[int]:
        """Skip those of ``run_ids`` that are still queued, with ``reason``; returns their ids, ascending."""
        return sorted(await self._enqueue(_SKIP_QUEUED, (reason, now_text(), run_ids), returns_ids=True))

    async def finish_batch(self, batch_id: int, status: str) -> bool:
        """Record that a batch ended ('finished' or 'cancelled'); False if there is no such batch."""
        return await self._enqueue(_FINISH_BATCH, (status, now_text(), batch_id))

    @property
    def fault(self) -> StoreFault | None:
        """Why the store cannot commit now; None while commits succeed."""
        return self._faults.fault

    def on_fault_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a fault begins or ends."""
        self._faults.on_change(listener)

    async def close(self) -> None:
        """Commit what is pending (one last attempt while faulty: what still fails, fails), then stop."""
        if self._task is None:
            return
        self._closing = True
        self._closed.set()
        self._wake.set()
        await self._task
        self._task = None

    def _enqueue(
        self,
        sql: str,
        params: tuple[Any, ...],
        *,
        returns_ids: bool = False,
        prelude: tuple[str, tuple[Any, ...]] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue one op for the next commit; the future settles with its outcome."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._closing:
            future.set_exception(StoreError("the result writer for the PostgreSQL store is closed"))
            return future
        self._pending.append(PendingWrite(sql, params, returns_ids, future, prelude))
        self._wake.set()
        return future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                continue
            if not self._closing:
                # Let the tick's other writes join this transaction.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._tick_s)
            ops, self._pending = self._pending, []
            await self._commit(ops)

    async def _commit(self, ops: list[PendingWrite]) -> None:
        try:
            results = await self._apply(ops)
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ else exc
            if is_outage(cause) and not self._closing:
                self._pending[:0] = ops
                self._faults.failed(str(exc), len(self._pending))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._faults.delay())
                return
            for op in ops:
                if not op.future.done():
                    op.future.set_exception(exc)
            return
        self._faults.committed(len(ops))
        for op, result in zip(ops, results, strict=True):
            if not op.future.done():
                op.future.set_result(result)

    async def _apply(self, ops: list[PendingWrite]) -> list[Any]:
        """One transaction holding every op; per-op outcomes (rowcount 1, or the ids returned)."""
        async with self._access.transaction() as conn:
            # Pipeline mode sends the statements without waiting for each answer: one round trip for
            # the group instead of one per write.
            async with conn.pipeline():
                cursors = []
                for op in ops:
                    if op.prelude is not None:
                        await conn.execute(op.prelude[0].encode(), op.prelude[1])
                    cursors.append(await conn.execute(op.sql.encode(), op.params))
            return [
                [row[0] for row in await cursor.fetchall()] if op.returns_ids else cursor.rowcount == 1
                for op, cursor in zip(ops, cursors, strict=True)
            ]
