"""Outbox rows as the API's events (``core.models.events``).

The writers keep outbox payloads small (a run id, an attempt, a status); the rest — test names, scores,
a batch's counts — is read here, per page of events: one query for the page's runs and one for the
counts of the batches whose progress is due, never one per event. Every event keeps the id of the
outbox row it comes from, so a client resumes on any daemon. Events made here without a row of their
own (``batch.progress``) take the id of the row they follow: resuming from that id loses nothing.

Progress goes out for a batch at most every ``progress_interval_s`` (of the events' own times, on the
database clock, so a replay paces like the live stream), and always just before its ``batch.finished``.
Its counts are the batch's as stored when the page is read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from psycopg import AsyncConnection
from pydantic import ValidationError

from callboard.core.engine.batch_book import HEARTBEAT_S
from callboard.core.engine.progress import BatchTracker
from callboard.core.models import BatchCounts, RunStatus
from callboard.core.models.events import (
    BatchFinished,
    BatchProgress,
    EventBase,
    RunFinished,
    RunQueued,
    RunStarted,
    parse_event,
)
from callboard.core.models.runs import FINAL_STATUSES
from callboard.storage.postgres.outbox import START, Event, Position
from callboard.storage.rows import counts_from_pairs

log = logging.getLogger(__name__)

# What the page's runs say about themselves.
_RUNS = """
SELECT id, batch_id, test_name, kind, score, duration_ms, error_kind FROM runs WHERE id = ANY(%s)
"""
# A batch's counts, and the model tokens its runs have spent (parsing only metrics that name them, so
# a batch without simulated users or judges costs no JSON parsing), read together.
_COUNTS = """
SELECT batches.id, batches.status, batches.created_at, batches.finished_at, runs.status, runs.number,
       runs.tokens, statement_timestamp()
FROM batches LEFT JOIN (
    SELECT batch_id, status, count(*) AS number,
           COALESCE(sum(CASE WHEN metrics LIKE '%%"llm_%%' THEN
               COALESCE((metrics::jsonb ->> 'llm_prompt_tokens')::float8, 0)
               + COALESCE((metrics::jsonb ->> 'llm_completion_tokens')::float8, 0) END), 0) AS tokens
    FROM runs WHERE batch_id = ANY(%(ids)s) GROUP BY batch_id, status
) AS runs ON runs.batch_id = batches.id
WHERE batches.id = ANY(%(ids)s)
"""
# Outbox kinds that concern one run (payload ``run_id``).
_RUN_KINDS = frozenset({"run_started", "run_finished", "run_cancelled", "run_reaped"})


# Where an API event stands beside the outbox row it comes from: a batch's last progress just before
# its ``batch_finished`` row, a row's own event at it, a page's progress just after its last row, and
# a heartbeat's after that (a replay never makes heartbeats, so a live one is never taken as replayed).
BEFORE, AT, AFTER, BEAT = -1, 0, 1, 2


@dataclass(frozen=True)
class Placed:
    """An API event and its place in commit order: (xid, id) of its row, and BEFORE, AT, AFTER or BEAT."""

    place: tuple[int, int, int]
    event: EventBase


def place(position: Position, rank: int) -> tuple[int, int, int]:
    """The place ``rank`` (BEFORE, AT, AFTER, BEAT) of the row at ``position``."""
    return (position.xid, position.id, rank)


@dataclass(frozen=True)
class _Run:
    batch_id: int
    test_name: str
    kind: str
    score: float | None
    duration_ms: float | None
    error_kind: str | None


@dataclass(frozen=True)
class _BatchState:
    status: str
    counts: BatchCounts
    duration_s: float
    llm_tokens: int


class Translator:
    """Turns pages of outbox rows, read in commit order, into API events; one per reader (the live
    tail, each replay), since it remembers each batch's pace between pages."""

    def __init__(self, progress_interval_s: float, after: Position = START) -> None:
        self._interval = progress_interval_s
        self._last = after  # the row read last: what the next event follows
        self._trackers: dict[int, BatchTracker] = {}
        self._last_progress: dict[int, float] = {}

    async def page(self, conn: AsyncConnection, page: list[Event]) -> list[Placed]:
        """The API events for ``page`` (rows in commit order), in that order."""
        if not page:
            return []
        rows = [row for row in page if _well_formed(row)]
        if not rows:
            self._last = page[-1].position
            return []
        runs = await _runs(conn, {int(row.payload["run_id"]) for row in rows if row.kind in _RUN_KINDS})
        end = page[-1]
        now = end.created_at.timestamp()
        finishing = {int(row.payload["batch_id"]) for row in rows if row.kind == "batch_finished"}
        touched = {run.batch_id for run in runs.values()} | {
            int(row.payload["batch_id"]) for row in rows if row.kind == "runs_queued"
        }
        due = {batch_id for batch_id in touched - finishing if self._progress_due(batch_id, now)}
        batches, _ = await _batches(conn, due | finishing)
        placed: list[Placed] = []
        for row in rows:
            if row.kind == "batch_finished":
                placed.extend(self._finished(row, batches.get(int(row.payload["batch_id"]))))
            else:
                event = self._event(row, runs)
                if event is not None:
                    placed.append(Placed(place(row.position, AT), event))
            self._last = row.position
        self._last = end.position
        for batch_id in sorted(due):
            state = batches.get(batch_id)
            if state is not None:
                self._last_progress[batch_id] = now
                progress = self._progress(batch_id, state, end.created_at, end.id)
                placed.append(Placed(place(end.position, AFTER), progress))
        return placed

    async def heartbeat(self, conn: AsyncConnection) -> list[Placed]:
        """Progress, with a fresh ETA, for each batch with runs going and no progress for a while (and
        never sooner than the interval): a follower's ETA must not freeze while a long run goes on and
        no row comes. Batches no longer running are forgotten."""
        going = [batch_id for batch_id, tracker in self._trackers.items() if tracker.counts.running > 0]
        batches, at = await _batches(conn, going)
        if at is None:
            return []
        placed: list[Placed] = []
        for batch_id in going:
            state = batches.get(batch_id)
            if state is None or state.status != "running":
                self._trackers.pop(batch_id, None)
                self._last_progress.pop(batch_id, None)
                continue
            last = self._last_progress.get(batch_id)
            if last is None or at.timestamp() - last >= max(self._interval, HEARTBEAT_S):
                self._last_progress[batch_id] = at.timestamp()
                progress = self._progress(batch_id, state, at, self._last.id)
                placed.append(Placed(place(self._last, BEAT), progress))
        return placed

    def _progress_due(self, batch_id: int, now: float) -> bool:
        last = self._last_progress.get(batch_id)
        return last is None or now - last >= self._interval

    def _tracker(self, batch_id: int, at: datetime) -> BatchTracker:
        tracker = self._trackers.get(batch_id)
        if tracker is None:
            tracker = BatchTracker(batch_id, BatchCounts(), started=at.timestamp())
            self._trackers[batch_id] = tracker
        return tracker

    def _event(self, row: Event, runs: dict[int, _Run]) -> EventBase | None:
        payload = row.payload
        if row.kind == "runs_queued":
            return RunQueued(
                id=row.id, at=row.created_at, batch_id=int(payload["batch_id"]), run_ids=payload["run_ids"]
            )
        if row.kind in _RUN_KINDS:
            run_id = int(payload["run_id"])
            run = runs.get(run_id)
            if run is None:
                return None  # pruned since: nothing to say about it
            return self._run_event(row, run_id, run)
        if "." in row.kind:
            return _published(row)
        return None  # bookkeeping only (requeues, prune markers)

    def _run_event(self, row: Event, run_id: int, run: _Run) -> EventBase | None:
        tracker = self._tracker(run.batch_id, row.created_at)
        now = row.created_at.timestamp()
        attempt = int(row.payload.get("attempt", 0))
        if row.kind == "run_started":
            tracker.start(run_id, run.kind, None, now=now)
            return RunStarted(
                id=row.id,
                at=row.created_at,
                run_id=run_id,
                batch_id=run.batch_id,
                test_name=run.test_name,
                attempt=attempt,
            )
        if row.kind == "run_reaped" and row.payload.get("status") != RunStatus.ERROR.value:
            return None  # back in the queue: progress shows it
        if row.kind == "run_cancelled":
            status = RunStatus.CANCELLED
        elif row.kind == "run_reaped":
            status = RunStatus.ERROR
        else:
            status = RunStatus(row.payload["status"])
        was_running = row.kind != "run_cancelled"
        tracker.record(status, was_running=was_running, now=now, run_id=run_id, duration_ms=run.duration_ms)
        return RunFinished(
            id=row.id,
            at=row.created_at,
            run_id=run_id,
            batch_id=run.batch_id,
            test_name=run.test_name,
            status=status,
            score=run.score,
            duration_ms=run.duration_ms,
            error_kind=run.error_kind,
        )

    def _finished(self, row: Event, state: _BatchState | None) -> list[Placed]:
        """The batch's last progress (with the id of the row before, so a resume from it still gets the
        end) and its ``batch.finished``."""
        batch_id = int(row.payload["batch_id"])
        if state is None:
            return []  # pruned since
        progress = self._progress(batch_id, state, row.created_at, self._last.id)
        self._trackers.pop(batch_id, None)
        self._last_progress.pop(batch_id, None)
        counts = state.counts
        finished = BatchFinished(
            id=row.id,
            at=row.created_at,
            batch_id=batch_id,
            status=state.status,
            total=counts.total,
            passed=counts.passed,
            failed=counts.failed,
            error=counts.error,
            cancelled=counts.cancelled,
            skipped=counts.skipped,
            pass_rate=counts.pass_rate,
            duration_s=state.duration_s,
        )
        return [Placed(place(row.position, BEFORE), progress), Placed(place(row.position, AT), finished)]

    def _progress(self, batch_id: int, state: _BatchState, at: datetime, event_id: int) -> BatchProgress:
        tracker = self._tracker(batch_id, at)
        tracker.counts = state.counts.model_copy()
        now = at.timestamp()
        eta = tracker.eta_s(now)
        counts = state.counts
        return BatchProgress(
            id=event_id,
            at=at,
            batch_id=batch_id,
            done=counts.done,
            total=counts.total,
            passed=counts.passed,
            failed=counts.failed,
            error=counts.error,
            pass_rate=counts.pass_rate,
            rate_per_s=round(tracker.rate_per_s(now), 2),
            eta_s=None if eta is None else round(eta, 1),
            llm_tokens=state.llm_tokens,
        )


def _well_formed(row: Event) -> bool:
    """Whether the row has what its kind needs (a row that has not is left out, never retried: one bad
    row must not stop the stream)."""
    payload = row.payload
    if row.kind in _RUN_KINDS:
        ok = isinstance(payload.get("run_id"), int)
        if ok and row.kind == "run_finished":
            ok = payload.get("status") in {status.value for status in FINAL_STATUSES}
    elif row.kind == "runs_queued":
        run_ids = payload.get("run_ids")
        ok = isinstance(payload.get("batch_id"), int) and isinstance(run_ids, list)
        ok = ok and all(isinstance(run_id, int) for run_id in run_ids or [])
    elif row.kind == "batch_finished":
        ok = isinstance(payload.get("batch_id"), int)
    else:
        return True
    if not ok:
        log.warning("outbox event %d (%s) lacks what its kind needs; left out", row.id, row.kind)
    return ok


def _published(row: Event) -> EventBase | None:
    """An API event written as it is by ``OutboxEvents.publish`` (kind = its type)."""
    data: dict[str, Any] = {**row.payload, "type": row.kind, "id": row.id, "at": row.created_at.isoformat()}
    try:
        return cast(EventBase, parse_event(json.dumps(data)))
    except ValidationError:
        return None  # written by a newer callboard: not for this one's clients


async def _runs(conn: AsyncConnection, run_ids: Iterable[int]) -> dict[int, _Run]:
    ids = sorted(run_ids)
    if not ids:
        return {}
    cursor = await conn.execute(_RUNS, (ids,))
    return {
        int(row[0]): _Run(int(row[1]), row[2], row[3], row[4], row[5], row[6])
        for row in await cursor.fetchall()
    }


async def _batches(
    conn: AsyncConnection, batch_ids: Iterable[int]
) -> tuple[dict[int, _BatchState], datetime | None]:
    """The batches' states, and the database's clock when they were read (None when none were)."""
    ids = sorted(batch_ids)
    if not ids:
        return {}, None
    cursor = await conn.execute(_COUNTS, {"ids": ids})
    pairs: dict[int, list[tuple[str, int]]] = {}
    tokens: dict[int, float] = {}
    rows: dict[int, tuple[str, str, str | None]] = {}
    at: datetime | None = None
    for (
        batch_id,
        status,
        created_at,
        finished_at,
        run_status,
        number,
        spent,
        read_at,
    ) in await cursor.fetchall():
        rows[batch_id] = (status, created_at, finished_at)
        at = read_at
        tokens[batch_id] = tokens.get(batch_id, 0.0) + float(spent or 0)
        if run_status is not None:
            pairs.setdefault(batch_id, []).append((run_status, int(number)))
    states: dict[int, _BatchState] = {}
    for batch_id, (status, created_at, finished_at) in rows.items():
        duration = 0.0
        if finished_at is not None:
            ended = datetime.fromisoformat(finished_at)
            duration = (ended - datetime.fromisoformat(created_at)).total_seconds()
        counts = counts_from_pairs(pairs.get(batch_id, []))
        states[int(batch_id)] = _BatchState(
            status, counts, round(max(0.0, duration), 3), int(tokens[batch_id])
        )
    return states, at
