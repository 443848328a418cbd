"""The reaper: runs whose lease expired (their worker died, froze or lost the database) go back.

Only expired leases are touched, so running it at any worker's start-up (start-up recovery) or every few
seconds never disturbs a live worker's runs, and runs marked running by the single-process engine (no
lease) are left to that engine's own recovery. Per run:

- a call SID is kept and the run requeued: its next claimer resumes watching that call;
- a dial intent without a SID is kept and the run requeued: its next claimer looks the call up on the
  account (``core.telephony.dialing``) and never dials it again, as after a single daemon's crash;
- any other run is requeued while attempts remain (the next claim counts the re-execution), otherwise
  it ends ``error`` (kind ``interrupted``), as SQLite's recovery does.

A resume is not a new dial, so calls get ``RESUMES`` claims beyond their attempts before they too end
``interrupted`` (a run that kills every worker that takes it must not circulate for ever).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection

from callboard.storage.postgres import outbox
from callboard.storage.postgres.queue import NOW_TEXT

RESUMES = 2
WORKER_SILENCE_S = 300.0

# SKIP LOCKED: a run whose fenced write is in flight is left for the next round.
_REAP = f"""
WITH expired AS (
    SELECT id, external_id IS NOT NULL AS has_sid,
           EXISTS (SELECT 1 FROM dial_intents WHERE run_id = runs.id) AS has_intent,
           attempt, max_attempts
    FROM runs WHERE status = 'running' AND lease_until < now()
    FOR UPDATE SKIP LOCKED
), decided AS (
    SELECT id, has_sid, has_intent,
           CASE WHEN has_sid OR has_intent THEN attempt < max_attempts + %(resumes)s
                ELSE attempt < max_attempts END AS again
    FROM expired
)
UPDATE runs SET
    status = CASE WHEN decided.again THEN 'queued' ELSE 'error' END,
    started_at = CASE WHEN decided.again THEN NULL ELSE runs.started_at END,
    finished_at = CASE WHEN decided.again THEN NULL ELSE {NOW_TEXT} END,
    error_kind = CASE WHEN decided.again THEN runs.error_kind ELSE 'interrupted' END,
    error_message = CASE WHEN decided.again THEN runs.error_message ELSE 'interrupted' END,
    lease_owner = NULL, lease_until = NULL
FROM decided WHERE runs.id = decided.id
RETURNING runs.id, runs.attempt, decided.again, decided.has_sid, decided.has_intent
"""
_FORGET_SILENT = "DELETE FROM workers WHERE heartbeat_at < now() - make_interval(secs => %s)"


@dataclass(frozen=True)
class Reaped:
    """What one reap did, by run id: requeued plainly, requeued to resume a call (SID), requeued to
    resolve a dial intent (no SID), and ended ``error: interrupted``."""

    requeued: tuple[int, ...] = ()
    resuming: tuple[int, ...] = ()
    resolving: tuple[int, ...] = ()
    errored: tuple[int, ...] = ()


async def reap(conn: AsyncConnection, worker_silence_s: float = WORKER_SILENCE_S) -> Reaped:
    """Return every run whose lease expired, in one transaction with its events; forget workers silent
    for ``worker_silence_s``."""
    async with conn.transaction():
        cursor = await conn.execute(_REAP, {"resumes": RESUMES})
        rows = sorted(await cursor.fetchall())
        await conn.execute(_FORGET_SILENT, (worker_silence_s,))
        await outbox.append(
            conn,
            "run_reaped",
            *(
                {"run_id": int(r[0]), "attempt": int(r[1]), "status": "queued" if r[2] else "error"}
                for r in rows
            ),
        )
    return Reaped(
        requeued=tuple(int(r[0]) for r in rows if r[2] and not r[3] and not r[4]),
        resuming=tuple(int(r[0]) for r in rows if r[2] and r[3]),
        resolving=tuple(int(r[0]) for r in rows if r[2] and r[4] and not r[3]),
        errored=tuple(int(r[0]) for r in rows if not r[2]),
    )
