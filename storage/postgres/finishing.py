"""Batch finishing on a shared store: a batch whose runs are all final is marked finished, once, by the
process that holds the ``batch-finishing`` role (``singleton``), whichever worker ran its last run."""

from __future__ import annotations

from psycopg import AsyncConnection

from callboard.storage.postgres import outbox
from callboard.storage.postgres.queue import NOW_TEXT

_FINISH_DONE = f"""
UPDATE batches SET status = 'finished', finished_at = {NOW_TEXT}
WHERE status = 'running'
  AND NOT EXISTS (
      SELECT 1 FROM runs WHERE runs.batch_id = batches.id AND runs.status IN ('queued', 'running')
  )
RETURNING id
"""


async def finish_done_batches(conn: AsyncConnection) -> list[int]:
    """Mark every running batch with no queued or running run finished; returns their ids."""
    async with conn.transaction():
        cursor = await conn.execute(_FINISH_DONE)
        ids = sorted(int(row[0]) for row in await cursor.fetchall())
        await outbox.append(conn, "batch_finished", *({"batch_id": batch_id} for batch_id in ids))
    return ids
