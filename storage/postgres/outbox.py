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

A long-lived reader keeps its place as a ``Position`` (xid, id) and reads with ``read_after``, which
also says whether committed events wait behind a transaction still open (no NOTIFY comes when that
one ends without events of its own, so the reader looks again soon). ``prune`` deletes old events as a
prefix in commit order and leaves a marker, so a reader told to resume from a pruned id — or from the
very start after a prune — knows that events are missing (``resumable``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from psycopg import AsyncConnection

EVENTS_CHANNEL = "callboard_events"
# The kind of the marker ``prune`` leaves: events up to its ``through`` id are gone. Readers skip it.
PRUNED = "events_pruned"

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


# Rows from ``after`` on in commit order, each flagged when its transaction is at or above the horizon
# (committed, but an older transaction is still open): the page ends before the first flagged row.
_READ_AFTER = """
WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT id, kind, payload, created_at, xid::text::bigint, events.xid >= horizon.xmin
FROM events, horizon
WHERE (events.xid, events.id) > (%(xid)s::text::xid8, %(id)s)
ORDER BY events.xid, events.id
LIMIT %(limit)s
"""
_POSITION_OF = "SELECT xid::text::bigint, id FROM events WHERE id = %s"
# Where pruning stops: the first event (in commit order) young enough to keep, or still behind the
# horizon; the newest final event is kept too, so an idle feed stays resumable.
_PRUNE_STOP = """
WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT xid::text::bigint, id FROM events, horizon
WHERE events.created_at >= now() - make_interval(secs => %(age)s) OR events.xid >= horizon.xmin
ORDER BY events.xid, events.id
LIMIT 1
"""
_HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
# The newest final event but a prune marker (a marker is no place to resume from, nor to prune up to).
_END = f"""
SELECT xid::text::bigint, id FROM events
WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) AND kind <> '{PRUNED}'
ORDER BY xid DESC, id DESC
LIMIT 1
"""
_PRUNE_CHUNK = """
DELETE FROM events WHERE (xid, id) IN (
    SELECT xid, id FROM events WHERE (xid, id) < (%(xid)s::text::xid8, %(id)s)
    ORDER BY xid, id LIMIT %(chunk)s
)
RETURNING id
"""


class Position(NamedTuple):
    """A place in commit order: (transaction id, event id); tuples compare in that order."""

    xid: int
    id: int


# Before every event.
START = Position(0, 0)


@dataclass(frozen=True)
class Event:
    """One event as read back: its id (the resume cursor), kind and payload, and its transaction."""

    id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    xid: int = 0

    @property
    def position(self) -> Position:
        """Where the event sits in commit order."""
        return Position(self.xid, self.id)


@dataclass(frozen=True)
class Page:
    """Events read in commit order, and whether committed ones wait behind a transaction still open."""

    events: list[Event]
    held_back: bool


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


async def read_after(conn: AsyncConnection, after: Position, limit: int = 1000) -> Page:
    """Up to ``limit`` final events after ``after`` in commit order (see ``Page``)."""
    cursor = await conn.execute(_READ_AFTER, {"xid": str(after.xid), "id": after.id, "limit": limit})
    events: list[Event] = []
    for event_id, kind, payload, created_at, xid, held in await cursor.fetchall():
        if held:
            return Page(events, held_back=True)  # every later row is held back too: xid orders first
        events.append(Event(int(event_id), kind, payload, created_at, int(xid)))
    return Page(events, held_back=False)


async def position_of(conn: AsyncConnection, event_id: int) -> Position | None:
    """Where event ``event_id`` sits in commit order; None when there is no such event (pruned, or
    never given out)."""
    cursor = await conn.execute(_POSITION_OF, (event_id,))
    row = await cursor.fetchone()
    return None if row is None else Position(int(row[0]), int(row[1]))


async def end(conn: AsyncConnection) -> Position:
    """The position of the newest final event, prune markers aside (``START`` when there is none):
    where a new reader that wants only what comes next begins."""
    cursor = await conn.execute(_END)
    row = await cursor.fetchone()
    return START if row is None else Position(int(row[0]), int(row[1]))


async def resumable(conn: AsyncConnection, event_id: int) -> Position | None:
    """Where to resume after event ``event_id`` (0: from the start); None when events after it may be
    gone — it was pruned, was never given out, or (for 0) some events have been pruned."""
    if event_id > 0:
        return await position_of(conn, event_id)
    cursor = await conn.execute("SELECT 1 FROM events WHERE kind = %s LIMIT 1", (PRUNED,))
    return None if await cursor.fetchone() is not None else START


async def prune(conn: AsyncConnection, older_than_s: float, chunk: int = 10_000) -> int:
    """Delete events older than ``older_than_s`` seconds (database clock), oldest first in commit order,
    ``chunk`` per transaction, leaving a marker; returns how many went. Never deletes past a younger
    event, an event behind the horizon, or the newest final event."""
    deleted = 0
    while True:
        async with conn.transaction():
            stop = await _prune_stop(conn, older_than_s)
            if stop is None:
                return deleted
            cursor = await conn.execute(_PRUNE_CHUNK, {"xid": str(stop.xid), "id": stop.id, "chunk": chunk})
            ids = [int(row[0]) for row in await cursor.fetchall()]
            if ids:
                # One marker, the newest: readers need only know that something was pruned.
                await conn.execute("DELETE FROM events WHERE kind = %s", (PRUNED,))
                await conn.execute(_APPEND, (PRUNED, [json.dumps({"through": max(ids)})]))
        deleted += len(ids)
        if len(ids) < chunk:
            return deleted


async def _prune_stop(conn: AsyncConnection, older_than_s: float) -> Position | None:
    """The first position to keep: the earliest of the first young or held-back event, the newest
    final event (not a marker) and the horizon; None when there is no such event."""
    newest = await end(conn)
    if newest == START:
        return None
    cursor = await conn.execute(_HORIZON)
    row = await cursor.fetchone()
    assert row is not None
    stops = [newest, Position(int(row[0]), 0)]
    cursor = await conn.execute(_PRUNE_STOP, {"age": older_than_s})
    row = await cursor.fetchone()
    if row is not None:
        stops.append(Position(int(row[0]), int(row[1])))
    return min(stops)
