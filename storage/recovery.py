"""Recovery after a crash: runs that were running when the daemon died."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callboard.storage.timestamps import now_text

if TYPE_CHECKING:  # the Store itself uses this module
    from callboard.storage.store import Store

# A run's attempt is counted when it starts, so one left 'running' has used its attempt. Runs out of
# attempts end as errors; the others go back to the queue, and their re-execution will count the next
# attempt. Any external_id (a call SID) is kept, so the engine can resume watching that call instead of
# dialling again.
_GIVE_UP = """
UPDATE runs SET status = 'error', error_kind = 'interrupted', error_message = 'interrupted', finished_at = ?
WHERE status = 'running' AND attempt >= max_attempts
"""
_REQUEUE = "UPDATE runs SET status = 'queued', started_at = NULL WHERE status = 'running'"


async def requeue_interrupted(store: Store) -> tuple[int, int]:
    """Settle every run left 'running': requeue it while attempts remain, otherwise mark
    it 'error' (kind 'interrupted'). Returns (requeued, errored). Call it before the engine starts."""
    async with store.gate.transaction() as conn:
        errored = (await conn.execute(_GIVE_UP, (now_text(),))).rowcount
        requeued = (await conn.execute(_REQUEUE)).rowcount
    return requeued, errored


async def interrupted_external_ids(store: Store) -> list[str]:
    """The external ids (call SIDs, command process groups) of the runs left 'running' by a crash.
    Call it before ``requeue_interrupted``."""
    async with store.gate.transaction() as conn:
        cursor = await conn.execute(
            "SELECT external_id FROM runs WHERE status = 'running' AND external_id IS NOT NULL"
        )
        return [row[0] for row in await cursor.fetchall()]
