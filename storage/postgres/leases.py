"""Fenced writes: everything a worker writes about a run it claimed.

Each statement carries the fence — the run is running, this attempt, and this worker still owns its
lease — so a worker that lost its lease (reaped while it was frozen, or its run cancelled) changes
nothing: the write returns False and the worker drops the run. A fenced write that changes a run also
appends its event to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import AsyncConnection

from callboard.core.models import RunResult
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.postgres import outbox
from callboard.storage.postgres.queue import NOW_TEXT, Lease
from callboard.storage.timestamps import to_text
from callboard.storage.writer import encode_result

_FENCE = "id = %(run)s AND status = 'running' AND attempt = %(attempt)s AND lease_owner = %(owner)s"
_FINISH = f"""
UPDATE runs SET status = %(status)s, finished_at = {NOW_TEXT}, duration_ms = %(duration_ms)s,
                score = %(score)s, checks = %(checks)s,
                labels_id = (SELECT id FROM check_labels WHERE labels = %(labels)s), metrics = %(metrics)s,
                transcript = %(transcript)s,
                artifacts = %(artifacts)s, error_kind = %(error_kind)s, error_message = %(error_message)s,
                skip_reason = %(skip_reason)s, lease_owner = NULL, lease_until = NULL
WHERE {_FENCE}
RETURNING id
"""
_REQUEUE = f"""
UPDATE runs SET status = 'queued', started_at = NULL, lease_owner = NULL, lease_until = NULL WHERE {_FENCE}
"""
_NEXT_ATTEMPT = f"UPDATE runs SET attempt = attempt + 1 WHERE {_FENCE}"
_SET_EXTERNAL_ID = f"UPDATE runs SET external_id = %(external_id)s WHERE {_FENCE}"
# A call is placed only under a live lease: the run row is locked while the intent is written, so a
# reaper either sees the intent (and the run is resolved by looking the call up) or this write fails.
_SET_DIAL_INTENT = f"""
WITH fenced AS (SELECT id FROM runs WHERE {_FENCE} AND lease_until > now() FOR UPDATE)
INSERT INTO dial_intents (run_id, to_number, from_number, created_at)
SELECT id, %(to)s, %(from)s, %(at)s FROM fenced
ON CONFLICT (run_id) DO UPDATE SET
    to_number = excluded.to_number, from_number = excluded.from_number, created_at = excluded.created_at
"""
_KEEP_LABELS = "INSERT INTO check_labels (labels) SELECT unnest(%s::text[]) ON CONFLICT (labels) DO NOTHING"
_CLEAR_DIAL_INTENT = f"""
DELETE FROM dial_intents WHERE run_id = %(run)s AND EXISTS (SELECT 1 FROM runs WHERE {_FENCE})
"""


async def finish(conn: AsyncConnection, lease: Lease, result: RunResult, duration_ms: float | None) -> bool:
    """Record the attempt's final result and release the lease; False, and nothing written, when the
    lease was lost (so no run is finished twice). The score defaults to the checks'."""
    [done] = await finish_many(conn, [(lease, result, duration_ms)])
    return done


async def finish_many(
    conn: AsyncConnection, items: Sequence[tuple[Lease, RunResult, float | None]]
) -> list[bool]:
    """``finish`` for several runs in one transaction and one round trip (a group commit: a worker
    finishing many short runs pays one commit for all); per item, whether it was written. ValueError,
    and nothing written, when a result is not final."""
    if not items:
        return []
    params = [_finish_params(lease, result, duration_ms) for lease, result, duration_ms in items]
    labels = sorted({str(p["labels"]) for p in params if p["labels"] is not None})
    written: set[int] = set()
    async with conn.transaction(), conn.cursor() as cursor:
        if labels:
            # Each list of check labels is kept once, before the runs name it (storage/check_labels.py).
            await cursor.execute(_KEEP_LABELS, (labels,))
        await cursor.executemany(_FINISH, params, returning=True)
        while True:
            written.update(int(row[0]) for row in await cursor.fetchall())
            if not cursor.nextset():
                break
        events = [
            {"run_id": lease.run_id, "attempt": lease.attempt, "status": result.status.value}
            for lease, result, _ in items
            if lease.run_id in written
        ]
        await outbox.append(conn, "run_finished", *events)
    return [lease.run_id in written for lease, _, _ in items]


def _finish_params(lease: Lease, result: RunResult, duration_ms: float | None) -> dict[str, object]:
    """The fenced finish's parameters: the result encoded as every writer stores it (the finishing time
    is the database clock's, in the statement), named for ``_FINISH``."""
    return lease.params() | encode_result(result, duration_ms)._asdict()


async def requeue(conn: AsyncConnection, lease: Lease) -> bool:
    """Give the run back to the queue unfinished (e.g. at shutdown), keeping its attempt count."""
    event = {"run_id": lease.run_id, "attempt": lease.attempt}
    return await _write(conn, _REQUEUE, lease.params(), "run_requeued", event)


async def next_attempt(conn: AsyncConnection, lease: Lease) -> Lease | None:
    """Count a re-execution (a transient error's retry); the lease for the next attempt, None if lost."""
    if not await _write(conn, _NEXT_ATTEMPT, lease.params()):
        return None
    return Lease(lease.run_id, lease.attempt + 1, lease.owner)


async def set_external_id(conn: AsyncConnection, lease: Lease, external_id: str) -> bool:
    """Record the provider's id (a call SID) for the attempt before relying on it."""
    return await _write(conn, _SET_EXTERNAL_ID, lease.params() | {"external_id": external_id})


async def set_dial_intent(conn: AsyncConnection, lease: Lease, intent: DialIntent | None) -> bool:
    """Record the call about to be placed (None: clear it, none was placed). Recording needs a lease that
    has not expired; False means: do not dial."""
    if intent is None:
        return await _write(conn, _CLEAR_DIAL_INTENT, lease.params())
    params = lease.params() | {"to": intent.to, "from": intent.from_, "at": to_text(intent.at)}
    return await _write(conn, _SET_DIAL_INTENT, params)


async def _write(
    conn: AsyncConnection,
    sql: str,
    params: dict[str, object],
    event_kind: str | None = None,
    event: Mapping[str, object] | None = None,
) -> bool:
    async with conn.transaction():
        cursor = await conn.execute(sql, params)
        done = cursor.rowcount > 0
        if done and event_kind is not None and event is not None:
            await outbox.append(conn, event_kind, event)
    return done
