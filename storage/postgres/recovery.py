"""Recovery after a crash on PostgreSQL: the runs a single daemon left 'running' (as ``storage.recovery``).

Only runs without a lease are the daemon's own: a run a worker holds under a lease (``lease_owner``) is
left to its worker, or to the reaper when the lease expires, so a daemon starting beside live workers
never runs their work again.
"""

from __future__ import annotations

from callboard.storage.postgres.access import PgAccess
from callboard.storage.timestamps import now_text

_UNLEASED_RUNNING = "status = 'running' AND lease_owner IS NULL"
_GIVE_UP = f"""
UPDATE runs SET status = 'error', error_kind = 'interrupted', error_message = 'interrupted', finished_at = %s
WHERE {_UNLEASED_RUNNING} AND attempt >= max_attempts
"""
_REQUEUE = f"UPDATE runs SET status = 'queued', started_at = NULL WHERE {_UNLEASED_RUNNING}"


class PgRecovery:
    """Settling runs left 'running' before the engine starts."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def interrupted_external_ids(self) -> list[str]:
        """The external ids of the runs left 'running' (call SIDs, command process groups)."""
        rows = await self._access.fetchall(
            f"SELECT external_id FROM runs WHERE {_UNLEASED_RUNNING} AND external_id IS NOT NULL"
        )
        return [row[0] for row in rows]

    async def requeue_interrupted(self) -> tuple[int, int]:
        """Requeue runs left 'running' while attempts remain, error the others; (requeued, errored)."""
        async with self._access.transaction() as conn:
            errored = (await conn.execute(_GIVE_UP.encode(), (now_text(),))).rowcount
            requeued = (await conn.execute(_REQUEUE.encode())).rowcount
        return requeued, errored
