"""The group-commit result writer: the hot path from "a run ended" to "its result is on disk".

Callers await each write; a background task gathers the writes that arrive within one tick and
commits them in ONE transaction, so a single fsync covers hundreds of results. Every call returns only
after the transaction holding its write has committed: an acknowledged result survives a crash.

When the store cannot commit (locked by another process, disk full, I/O error) the writes are kept, in
order, and retried with backoff until it can: callers simply wait longer, and ``fault`` says why. The
fault is logged once when it begins and once when it ends. What is kept is bounded by its callers: the
engine starts no run while there is a fault, so only the runs already running add their results.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NamedTuple

from pydantic import PlainSerializer, TypeAdapter

from callboard.core.models import RunResult, TranscriptEntry, score
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.check_labels import encode_checks
from callboard.storage.connection import DEFAULT_BUSY_TIMEOUT_MS, open_sync_connection
from callboard.storage.errors import StoreError, translate
from callboard.storage.faults import FaultTracker, StoreFault
from callboard.storage.grouped_writes import GroupedStatement, apply_grouped
from callboard.storage.timestamps import now_text, to_text

log = logging.getLogger(__name__)


def _whole_as_int(value: float) -> int | float:
    """A whole metric value stored as an integer (``"status":200``, not ``200.0``); read back as a float."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


_TRANSCRIPT = TypeAdapter(list[TranscriptEntry])
_METRICS = TypeAdapter(dict[str, Annotated[float, PlainSerializer(_whole_as_int, when_used="json")]])
_ARTIFACTS = TypeAdapter(dict[str, str])

# Each statement carries its own guard, so a write that no longer applies (a run already finished, a
# stale attempt) changes nothing and reports rowcount 0 instead of overwriting a result.
_MARK_STARTED = (
    "UPDATE runs SET status = 'running', attempt = ?, started_at = ? WHERE id = ? AND status = 'queued'"
)
# A run with checks stores its own part and names its labels (storage/check_labels.py).
_FINISH = """
UPDATE runs SET status = ?, finished_at = ?, duration_ms = ?, score = ?, checks = ?,
                labels_id = (SELECT id FROM check_labels WHERE labels = ?), metrics = ?, transcript = ?,
                artifacts = ?, error_kind = ?, error_message = ?, skip_reason = ?
WHERE id = ? AND status = 'running' AND attempt = ?
"""
KEEP_LABELS = "INSERT INTO check_labels (labels) VALUES (?) ON CONFLICT (labels) DO NOTHING"
# The same two, for many runs at once (storage/grouped_writes.py): each row is the one-row statement's
# parameters. ``+runs.status`` keeps SQLite from walking the status index (every queued or running run)
# instead of looking each row's run up by its id.
_GROUPED = {
    _MARK_STARTED: GroupedStatement(
        """
WITH r AS (
    SELECT json_extract(value, '$[0]') AS attempt, json_extract(value, '$[1]') AS started_at,
           json_extract(value, '$[2]') AS id
    FROM json_each(?)
)
UPDATE runs SET status = 'running', attempt = r.attempt, started_at = r.started_at
FROM r WHERE runs.id = r.id AND +runs.status = 'queued'
RETURNING runs.id
""",
        run_id_at=2,
    ),
    _FINISH: GroupedStatement(
        """
WITH r AS (
    SELECT json_extract(value, '$[0]') AS status, json_extract(value, '$[1]') AS finished_at,
           json_extract(value, '$[2]') AS duration_ms, json_extract(value, '$[3]') AS score,
           json_extract(value, '$[4]') AS checks, json_extract(value, '$[5]') AS labels,
           json_extract(value, '$[6]') AS metrics, json_extract(value, '$[7]') AS transcript,
           json_extract(value, '$[8]') AS artifacts, json_extract(value, '$[9]') AS error_kind,
           json_extract(value, '$[10]') AS error_message, json_extract(value, '$[11]') AS skip_reason,
           json_extract(value, '$[12]') AS id, json_extract(value, '$[13]') AS attempt
    FROM json_each(?)
)
UPDATE runs SET status = r.status, finished_at = r.finished_at, duration_ms = r.duration_ms,
                score = r.score, checks = r.checks,
                labels_id = (SELECT id FROM check_labels WHERE labels = r.labels), metrics = r.metrics,
                transcript = r.transcript, artifacts = r.artifacts, error_kind = r.error_kind,
                error_message = r.error_message, skip_reason = r.skip_reason
FROM r WHERE runs.id = r.id AND +runs.status = 'running' AND +runs.attempt = r.attempt
RETURNING runs.id
""",
        run_id_at=12,
    ),
}
_REQUEUE = (
    "UPDATE runs SET status = 'queued', started_at = NULL WHERE id = ? AND status = 'running' AND attempt = ?"
)
_NEXT_ATTEMPT = "UPDATE runs SET attempt = ? WHERE id = ? AND status = 'running' AND attempt = ?"
_SET_EXTERNAL_ID = "UPDATE runs SET external_id = ? WHERE id = ? AND status = 'running' AND attempt = ?"
# Guarded like the rest: only the running attempt may record or clear the call it is about to place.
_SET_DIAL_INTENT = """
INSERT INTO dial_intents (run_id, to_number, from_number, created_at)
SELECT id, ?, ?, ? FROM runs WHERE id = ? AND status = 'running' AND attempt = ?
ON CONFLICT (run_id) DO UPDATE SET
    to_number = excluded.to_number, from_number = excluded.from_number, created_at = excluded.created_at
"""
_CLEAR_DIAL_INTENT = """
DELETE FROM dial_intents
WHERE run_id = ? AND EXISTS (SELECT 1 FROM runs WHERE id = ? AND status = 'running' AND attempt = ?)
"""
_CANCEL_QUEUED = """
UPDATE runs SET status = 'cancelled', finished_at = ?
WHERE status = 'queued' AND id IN (SELECT value FROM json_each(?)) RETURNING id
"""

_FINISH_BATCH = "UPDATE batches SET status = ?, finished_at = ? WHERE id = ?"

_SKIP_QUEUED = """
UPDATE runs SET status = 'skipped', skip_reason = ?, finished_at = ?
WHERE status = 'queued' AND id IN (SELECT value FROM json_each(?)) RETURNING id
"""


@dataclass(slots=True)
class PendingWrite:
    """One statement waiting for the next group commit (on either backend)."""

    sql: str
    params: tuple[Any, ...]
    returns_ids: bool
    future: asyncio.Future[Any]
    # A statement run just before ``sql``, in the same transaction (its outcome is not reported).
    prelude: tuple[str, tuple[Any, ...]] | None = None


class ResultWriter:
    """Guarded run updates, committed in groups by one worker thread.

    The thread owns a plain sqlite3 connection: a tick's whole transaction then costs one thread hop,
    where aiosqlite would cost one hop per statement. Use it from the event loop that started it.
    """

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        tick_ms: float,
        max_ops: int,
        busy_timeout_ms: int,
    ) -> None:
        self.path = path
        self._conn = conn
        self._executor = executor
        self._tick_s = tick_ms / 1000
        self._max_ops = max_ops
        self._busy_timeout_ms = busy_timeout_ms
        self._pending: list[PendingWrite] = []
        self._first_at = 0.0  # when the oldest pending op arrived: the tick is counted from it
        self._wake = asyncio.Event()  # pending ops exist (or the writer is closing)
        self._full = asyncio.Event()  # commit now: the tick is over, max_ops are pending, or closing
        self._closing = False
        self._closed = asyncio.Event()  # cuts a fault's backoff short at close
        self._task: asyncio.Task[None] | None = None
        self._faults = FaultTracker()

    @classmethod
    async def start(
        cls,
        path: Path,
        tick_ms: float = 5.0,
        max_ops: int = 2000,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> ResultWriter:
        """Open the writer's connection (the database must already be migrated) and start committing."""
        if tick_ms < 0 or max_ops < 1:
            raise ValueError("tick_ms must be >= 0 and max_ops >= 1")
        path = Path(path)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callboard-writer")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, open_sync_connection, path, busy_timeout_ms)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        writer = cls(path, conn, executor, tick_ms, max_ops, busy_timeout_ms)
        writer._task = asyncio.create_task(writer._run(), name=f"callboard-writer {path}")
        return writer

    def mark_started(self, run_id: int, attempt: int, started_at: datetime) -> asyncio.Future[bool]:
        """Move a queued run to running with this attempt number (1 for its first execution); False if
        it was not queued.
        The commit's future, handed back at once: the engine awaits it more than once, and a task
        of its own for each run's start would cost more than the write."""
        return self._enqueue(_MARK_STARTED, (attempt, to_text(started_at), run_id))

    async def finish(
        self, run_id: int, attempt: int, result: RunResult, finished_at: datetime, duration_ms: float | None
    ) -> bool:
        """Record the final result of a running run's attempt; False (and nothing written) if the run is
        not running that attempt, so no run is ever finished twice. The score defaults to the checks'."""
        statement = finish_params(run_id, attempt, result, finished_at, duration_ms)
        prelude = None if statement.labels is None else (KEEP_LABELS, (statement.labels,))
        return await self._enqueue(_FINISH, statement.params, prelude=prelude)

    async def requeue(self, run_id: int, attempt: int) -> bool:
        """Put a running attempt back in the queue, unfinished (e.g. at shutdown); its attempt number is
        kept, as the run did not fail. False if the run is not running that attempt."""
        return await self._enqueue(_REQUEUE, (run_id, attempt))

    async def next_attempt(self, run_id: int, attempt: int) -> bool:
        """Count a re-execution of a running run (a transient error's retry): ``attempt`` + 1. False if
        the run is not running ``attempt``."""
        return await self._enqueue(_NEXT_ATTEMPT, (attempt + 1, run_id, attempt))

    async def set_external_id(self, run_id: int, attempt: int, external_id: str) -> bool:
        """Record the provider's id for the running attempt (e.g. a Twilio call SID) before relying on it."""
        return await self._enqueue(_SET_EXTERNAL_ID, (external_id, run_id, attempt))

    async def set_dial_intent(self, run_id: int, attempt: int, intent: DialIntent | None) -> bool:
        """Record the call the running attempt is about to place (None: it placed none); False, and
        nothing written, if the run is not running that attempt."""
        if intent is None:
            params: tuple[Any, ...] = (run_id, run_id, attempt)
            await self._enqueue(_CLEAR_DIAL_INTENT, params)
            return True
        params = (intent.to, intent.from_, to_text(intent.at), run_id, attempt)
        return await self._enqueue(_SET_DIAL_INTENT, params)

    async def cancel_queued(self, run_ids: list[int]) -> list[int]:
        """Cancel those of ``run_ids`` that are still queued; returns their ids, ascending."""
        ids = await self._enqueue(_CANCEL_QUEUED, (now_text(), json.dumps(run_ids)), returns_ids=True)
        return sorted(ids)

    async def skip_queued(self, run_ids: list[int], reason: str) -> list[int]:
        """Skip those of ``run_ids`` that are still queued, with ``reason``; returns their ids, ascending."""
        ids = await self._enqueue(_SKIP_QUEUED, (reason, now_text(), json.dumps(run_ids)), returns_ids=True)
        return sorted(ids)

    @property
    def fault(self) -> StoreFault | None:
        """Why the store cannot commit now; None while commits succeed."""
        return self._faults.fault

    def on_fault_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a fault begins or ends."""
        self._faults.on_change(listener)

    async def finish_batch(self, batch_id: int, status: str) -> bool:
        """Record that a batch ended ('finished' or 'cancelled'); False if there is no such batch."""
        return await self._enqueue(_FINISH_BATCH, (status, now_text(), batch_id))

    async def close(self) -> None:
        """Commit what is pending (one last attempt if the store is faulty: what still cannot be
        committed fails, and recovery settles those runs at the next start), then close."""
        if self._task is None:
            return
        self._closing = True
        self._closed.set()
        self._wake.set()
        self._full.set()
        await self._task
        self._task = None
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)

    def _enqueue(
        self,
        sql: str,
        params: tuple[Any, ...],
        *,
        returns_ids: bool = False,
        prelude: tuple[str, tuple[Any, ...]] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue one op for the next commit; the future settles with its outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self._closing:
            future.set_exception(StoreError(f"the result writer for {self.path} is closed"))
            return future
        if not self._pending:
            self._first_at = loop.time()
        self._pending.append(PendingWrite(sql, params, returns_ids, future, prelude))
        self._wake.set()
        if len(self._pending) >= self._max_ops:
            self._full.set()
        return future

    async def _run(self) -> None:
        """Collect ops for one tick (from the first one's arrival), commit them, repeat."""
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            if not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                continue
            delay = self._first_at + self._tick_s - loop.time()
            if delay > 0 and len(self._pending) < self._max_ops and not self._closing:
                self._full.clear()
                timer = loop.call_later(delay, self._full.set)
                await self._full.wait()
                timer.cancel()
            ops = self._pending[: self._max_ops]
            del self._pending[: self._max_ops]
            await self._commit(ops)

    async def _commit(self, ops: list[PendingWrite]) -> None:
        """Run ``ops`` in one transaction in the worker thread and settle their futures; when the store
        cannot commit, keep them (first in line) and wait a backoff before the next attempt."""
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._executor, self._apply, ops)
        except Exception as exc:
            # The whole transaction was rolled back, so every op in it failed.
            if _is_fault(exc) and not self._closing:
                self._pending[:0] = ops
                cause = str(translate(exc, self.path, self._busy_timeout_ms))
                self._faults.failed(cause, len(self._pending))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._faults.delay())
                return
            for op in ops:
                if not op.future.done():
                    op.future.set_exception(translate(exc, self.path, self._busy_timeout_ms))
            return
        self._faults.committed(len(ops))
        for op, result in zip(ops, results, strict=True):
            if not op.future.done():  # a caller that was cancelled no longer waits
                op.future.set_result(result)

    def _apply(self, ops: list[PendingWrite]) -> list[Any]:
        """In the worker thread: one BEGIN IMMEDIATE … COMMIT holding every op; per-op outcomes."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            results = apply_grouped(conn, ops, _GROUPED, _execute)
            conn.execute("COMMIT")
        except BaseException:
            # A full disk can make the rollback fail too; SQLite then rolls back by itself.
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            raise
        return results


class EncodedResult(NamedTuple):
    """A final result as its columns store it (every backend, every writer), but for the times."""

    status: str
    duration_ms: float | None
    score: float | None
    checks: str | None
    labels: str | None
    metrics: str
    transcript: str
    artifacts: str
    error_kind: str | None
    error_message: str | None
    skip_reason: str | None


def encode_result(result: RunResult, duration_ms: float | None) -> EncodedResult:
    """``result`` encoded as stored. The score defaults to the checks'; fields at their defaults (an
    empty message, weight 1, no times) are left out, as they come back when read and every run of a
    nightly batch would store them again. Its list of check labels (``labels``) is kept once
    (``KEEP_LABELS``) before a run names it; None when it has no checks."""
    if not result.status.is_final:
        raise ValueError(f"a run finishes in a final status, not {result.status.value!r}")
    checks = encode_checks(result.checks)
    return EncodedResult(
        status=result.status.value,
        duration_ms=duration_ms,
        score=result.score if result.score is not None else score(result.checks),
        checks=checks.own,
        labels=checks.labels,
        metrics=_METRICS.dump_json(result.metrics).decode(),
        # Most runs have neither (every HTTP test): their text is known without a serializer.
        transcript=_TRANSCRIPT.dump_json(result.transcript, exclude_defaults=True).decode()
        if result.transcript
        else "[]",
        artifacts=_ARTIFACTS.dump_json(result.artifacts).decode() if result.artifacts else "{}",
        error_kind=result.error_kind,
        error_message=result.error_message,
        skip_reason=result.skip_reason,
    )


class FinishStatement(NamedTuple):
    """The fenced finish statement's parameters (the same on every backend), and the run's list of check
    labels, kept once (``KEEP_LABELS``) before the statement names it; None when it has no checks."""

    params: tuple[Any, ...]
    labels: str | None


def finish_params(
    run_id: int, attempt: int, result: RunResult, finished_at: datetime, duration_ms: float | None
) -> FinishStatement:
    """The parameters of the fenced finish statement (``_FINISH``): ``encode_result``'s columns, with
    the finishing time after the status, then the fence."""
    encoded = encode_result(result, duration_ms)
    params = (encoded.status, to_text(finished_at), *encoded[1:], run_id, attempt)
    return FinishStatement(params, encoded.labels)


def _is_fault(exc: BaseException) -> bool:
    """The store cannot commit now (locked, full, read-only, I/O error) but may later; a constraint or
    programming error is no fault of the store and is not retried."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def _execute(conn: sqlite3.Connection, op: PendingWrite) -> Any:
    """Run one op; its own rowcount says whether its guard matched."""
    if op.prelude is not None:
        conn.execute(*op.prelude)
    cursor = conn.execute(op.sql, op.params)
    if op.returns_ids:
        return [row[0] for row in cursor.fetchall()]
    return cursor.rowcount == 1
