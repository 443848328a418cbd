"""Rates shared by every worker: a GCRA slot per key (e.g. ``twilio:cps``) held in the database.

GCRA, the generic cell rate algorithm (ITU-T I.371; the form Redis' redis-cell and Stripe's limiters
use), keeps one timestamp per key: the theoretical arrival time (TAT) of the next request. At ``rate``
per second each request is worth ``T = 1 / rate`` seconds; a request at time ``now`` is given the slot
``max(TAT, now)`` and pushes TAT one ``T`` further. ``burst`` requests may go back to back, so a slot is
usable ``(burst - 1) * T`` before it comes due. Here each reservation always takes a slot and returns how
long to wait for it (a scheduler, not a refusal), so callers sleep rather than retry: dials from every
worker come out evenly spaced.

One statement does it atomically, on the database clock: the upsert locks the key's row, so concurrent
reservations queue on it and each sees the TAT the previous one left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection

# clock_timestamp(), not now(): the time after the row lock was granted, not when the statement began.
_RESERVE = """
INSERT INTO rate_slots AS slot (key, tat)
VALUES (%(key)s, clock_timestamp() + make_interval(secs => %(t)s))
ON CONFLICT (key) DO UPDATE SET tat = GREATEST(slot.tat, clock_timestamp()) + make_interval(secs => %(t)s)
RETURNING tat - make_interval(secs => %(t)s) AS at,
          GREATEST(0, EXTRACT(EPOCH FROM (tat - make_interval(secs => %(t)s + %(tau)s) - clock_timestamp())))
"""


@dataclass(frozen=True)
class Reservation:
    """A slot: when it comes due (database clock) and how long from now to wait for it."""

    at: datetime
    wait_s: float


async def reserve_slot(conn: AsyncConnection, key: str, rate: float, burst: float = 1.0) -> Reservation:
    """Take the next slot of ``key`` at ``rate`` per second allowing ``burst`` back to back."""
    if rate <= 0 or burst < 1:
        raise ValueError(f"a rate needs rate > 0 and burst >= 1, not rate={rate} burst={burst}")
    interval = 1.0 / rate
    params = {"key": key, "t": interval, "tau": (burst - 1.0) * interval}
    cursor = await conn.execute(_RESERVE, params)
    row = await cursor.fetchone()
    assert row is not None  # an upsert with RETURNING always returns its row
    return Reservation(row[0], float(row[1]))


async def reserve(conn: AsyncConnection, key: str, rate: float, burst: float = 1.0) -> float:
    """Take the next slot of ``key`` and return the seconds to wait before using it (0: go now)."""
    return (await reserve_slot(conn, key, rate, burst)).wait_s
