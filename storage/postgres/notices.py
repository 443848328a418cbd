"""Cancel and pause across machines: the database holds the request, NOTIFY carries it at once.

A cancel of a queued run settles it on the spot. A running run belongs to the worker holding its lease:
the request is marked on the run (``cancel_requested``) and a notice naming the owner goes out on
``CONTROL_CHANNEL`` when the transaction commits; the owner stops the run (hanging up its call) and
finishes it ``cancelled`` through its fenced write. A worker that missed the notice (its listening
connection was down) finds the request in its next heartbeat. Pause works the same way with the
``queue_control`` row: claims refuse while it is set, heartbeats report it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import AsyncConnection

from callboard.storage.postgres import outbox
from callboard.storage.postgres.queue import NOW_TEXT

CONTROL_CHANNEL = "callboard_control"
EVERY_WORKER = "*"

_CANCEL_QUEUED = f"""
UPDATE runs SET status = 'cancelled', finished_at = {NOW_TEXT}
WHERE id = ANY(%s) AND status = 'queued' RETURNING id
"""
_ASK_OWNERS = """
UPDATE runs SET cancel_requested = TRUE
WHERE id = ANY(%s) AND status = 'running' AND lease_owner IS NOT NULL RETURNING id, lease_owner
"""


@dataclass(frozen=True)
class Notice:
    """One control message: ``action`` (cancel, pause, resume, wake) for ``owner`` (a worker id or ``*``)."""

    owner: str
    action: str
    run_id: int | None = None

    def concerns(self, worker: str) -> bool:
        """Whether the worker ``worker`` should act on it."""
        return self.owner in (worker, EVERY_WORKER)

    @classmethod
    def parse(cls, payload: str) -> Notice:
        """A notice from its NOTIFY payload."""
        data = json.loads(payload)
        return cls(str(data["owner"]), str(data["action"]), data.get("run_id"))


@dataclass(frozen=True)
class Cancelled:
    """What a cancel did: queued runs cancelled outright, and running ones whose owner was asked."""

    cancelled: tuple[int, ...]
    asked: tuple[int, ...]


async def cancel(conn: AsyncConnection, run_ids: Sequence[int]) -> Cancelled:
    """Cancel ``run_ids``: queued ones now, running ones by their owner (notified at commit)."""
    ids = list(run_ids)
    async with conn.transaction():
        cursor = await conn.execute(_CANCEL_QUEUED, (ids,))
        cancelled = sorted(int(row[0]) for row in await cursor.fetchall())
        cursor = await conn.execute(_ASK_OWNERS, (ids,))
        asked = sorted((int(row[0]), str(row[1])) for row in await cursor.fetchall())
        for run_id, owner in asked:
            await _notify(conn, Notice(owner, "cancel", run_id))
        await outbox.append(conn, "run_cancelled", *({"run_id": run_id} for run_id in cancelled))
    return Cancelled(tuple(cancelled), tuple(run_id for run_id, _ in asked))


async def set_paused(conn: AsyncConnection, *, paused: bool) -> None:
    """Pause (no worker claims) or resume the whole queue, and tell every worker."""
    async with conn.transaction():
        await conn.execute("UPDATE queue_control SET paused = %s", (paused,))
        await _notify(conn, Notice(EVERY_WORKER, "pause" if paused else "resume"))


async def wake(conn: AsyncConnection) -> None:
    """Tell every worker that runs were queued, so an idle one claims now rather than at its next poll."""
    await _notify(conn, Notice(EVERY_WORKER, "wake"))


async def listen(conn: AsyncConnection) -> None:
    """Subscribe ``conn`` (an autocommit connection of its own) to control notices; read them with
    ``conn.notifies(...)`` and ``Notice.parse(notify.payload)``."""
    await conn.execute(f"LISTEN {CONTROL_CHANNEL}")


async def _notify(conn: AsyncConnection, notice: Notice) -> None:
    payload = {"owner": notice.owner, "action": notice.action, "run_id": notice.run_id}
    await conn.execute("SELECT pg_notify(%s, %s)", (CONTROL_CHANNEL, json.dumps(payload)))
