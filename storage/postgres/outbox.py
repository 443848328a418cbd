"""The events outbox: events are rows written in the transaction whose change they report, and every
reader (each API daemon) reads them in commit-safe order.

Why not simply ``id > last_seen``: ids are handed out when a row is inserted, not when its transaction
commits, so a reader could see event 7 before event 5's transaction commits and never look back. Each
row records its transaction (``xid``); a reader takes only rows whose transaction is older than every
transaction still in progress (``xid < pg_snapshot_xmin(pg_current_snapshot())``) — those rows are final
— and walks them in (xid, id) order. Every transaction that commits later has an xid at or above that
horizon, so it sorts after everything already read: nothing is skipped however transactions interleave.
A bare ``id`` order below the horizon is not enough: an older transaction that inserted its event later
(higher id) would pass an event still in flight.

The cursor is the id of the last event read (what SSE's Last-Event-ID carries); its (xid, id) is looked
up, so any daemon resumes any client (when that event has been pruned, ids above it are read). NOTIFY
on ``EVENTS_CHANNEL`` (delivered at commit) only wakes the readers; they always read the table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

EVENTS_CHANNEL = "callboard_events"

_APPEND = """
INSERT INTO events (kind, payload) SELECT %s, unnest(%s::jsonb[])
"""
# The horizon: transactions below it have all ended; rows from them never appear or vanish any more.
_READ = """
WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
     cursor AS (SELECT xid, id FROM events WHERE id = %(after)s)
SELECT id, kind, payload, created_at FROM events, horizon
WHERE events.xid < horizon.xmin
  AND CASE WHEN EXISTS (SELECT 1 FROM cursor) THEN (events.xid, events.id) > (SELECT xid, id FROM cursor)
           ELSE events.id > %(after)s END
ORDER BY events.xid, events.id
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Event:
    """One event as read back: its id (the resume cursor), kind and payload."""

    id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime


async def append(conn: AsyncConnection, kind: str, *payloads: Mapping[str, Any]) -> None:
    """Add events of ``kind`` in the caller's transaction (they commit or roll back with its change) and
    wake the readers when it commits."""
    if not payloads:
        return
    await conn.execute(_APPEND, (kind, [json.dumps(dict(payload)) for payload in payloads]))
    await conn.execute("SELECT pg_notify(%s, '')", (EVENTS_CHANNEL,))


async def read(conn: AsyncConnection, after: int = 0, limit: int = 1000) -> list[Event]:
    """Committed events after the event ``after`` (0: from the start) in commit-safe order; an event whose
    transaction, or an older one, is still in progress is left for a later read."""
    cursor = await conn.execute(_READ, {"after": after, "limit": limit})
    return [Event(int(row[0]), row[1], row[2], row[3]) for row in await cursor.fetchall()]


async def listen(conn: AsyncConnection) -> None:
    """Subscribe ``conn`` (an autocommit connection of its own) to the readers' wake-ups; wait on them
    with ``conn.notifies(timeout=...)`` and then ``read``."""
    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
