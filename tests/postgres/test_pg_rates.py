"""GCRA slots in the database: reservations from several connections come out evenly spaced."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from psycopg import AsyncConnection

from callboard.storage.postgres.rates import Reservation, reserve, reserve_slot


async def test_three_workers_share_one_evenly_spaced_rate(db: AsyncConnection, pg_url: str) -> None:
    rate, per_worker = 20.0, 8
    slot = timedelta(seconds=1 / rate)
    conns = [await AsyncConnection.connect(pg_url, autocommit=True) for _ in range(3)]

    async def dial_all(conn: AsyncConnection) -> list[tuple[Reservation, object]]:
        """Reserve, wait, then 'dial': record the database clock at the moment of use."""
        dials = []
        for _ in range(per_worker):
            reservation = await reserve_slot(conn, "twilio:cps", rate)
            await asyncio.sleep(reservation.wait_s)
            cursor = await conn.execute("SELECT clock_timestamp()")
            row = await cursor.fetchone()
            assert row is not None
            dials.append((reservation, row[0]))
        return dials

    try:
        results = await asyncio.gather(*(dial_all(conn) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()
    dials = sorted((reservation.at, used) for worker in results for reservation, used in worker)
    slots = [at for at, _ in dials]
    # Every slot is at least one interval after the one before (exactly one while reservations queue up,
    # more when the key went idle): no two dials share a slot, whichever worker made them.
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert all(gap >= slot - timedelta(microseconds=2) for gap in gaps), gaps
    assert len(slots) == 3 * per_worker
    # Each dial went out no earlier than its slot (the event loop's timer may fire a tick early).
    assert all(used >= at - timedelta(milliseconds=2) for at, used in dials)


async def test_a_burst_goes_at_once_then_the_rate_holds(db: AsyncConnection) -> None:
    waits = [await reserve(db, "model:rpm", rate=1.0, burst=3) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0 < waits[3] <= 1.0  # the fourth waits for the first slot after the burst


async def test_keys_are_independent(db: AsyncConnection) -> None:
    assert await reserve(db, "a", rate=0.5) == 0.0
    assert await reserve(db, "b", rate=0.5) == 0.0
    assert await reserve(db, "a", rate=0.5) > 0


async def test_a_rate_must_be_positive(db: AsyncConnection) -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        await reserve(db, "a", rate=0)
    with pytest.raises(ValueError, match="burst >= 1"):
        await reserve(db, "a", rate=1, burst=0.5)
