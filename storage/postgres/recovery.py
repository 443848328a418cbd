"""Recovery after a crash on PostgreSQL: the runs a single daemon left 'running' (as ``storage.recovery``).

The SQL is the SQLite store's, which is portable; only the placeholders differ.
"""

from __future__ import annotations

from callboard.storage.postgres.access import PgAccess
from callboard.storage.recovery import _GIVE_UP, _REQUEUE
from callboard.storage.timestamps import now_text


class PgRecovery:
    """Settling runs left 'running' before the engine starts."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def interrupted_external_ids(self) -> list[str]:
        """The external ids of the runs left 'running' (call SIDs, command process groups)."""
        rows = await self._access.fetchall(
            "SELECT external_id FROM runs WHERE status = 'running' AND external_id IS NOT NULL"
        )
        return [row[0] for row in rows]

    async def requeue_interrupted(self) -> tuple[int, int]:
        """Requeue runs left 'running' while attempts remain, error the others; (requeued, errored)."""
        async with self._access.transaction() as conn:
            errored = (await conn.execute(_GIVE_UP.replace("?", "%s").encode(), (now_text(),))).rowcount
            requeued = (await conn.execute(_REQUEUE.encode())).rowcount
        return requeued, errored
