"""What a claim locks, against a real server: only the limit rows of the runs it may take, counted after
they are held (another claim's runs seen once it commits), and a run a budget must admit handed to the
budget path in queue order."""

from __future__ import annotations

import asyncio

from psycopg import AsyncConnection

from callboard.core.engine.budget import CallBudgetSpec
from callboard.core.worker.budgets import BatchBudgets
from callboard.storage.postgres.queue import Limits, claim
from tests.postgres.queue_rows import queue_runs, statuses

HTTP_KEYS = ["kind:http", "http://a"]
_MAKE = "INSERT INTO limit_locks (key) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING"
_LOCK = "SELECT key FROM limit_locks WHERE key = ANY(%s) ORDER BY key FOR UPDATE"
LIMITS = Limits(per_key={"kind:call": 2, "kind:command": 2, "twilio": 1, "kind:http": 8, "http://a": 1})


async def _hold(conn: AsyncConnection, *keys: str) -> None:
    """Open a transaction on ``conn`` that holds the limit rows of ``keys`` (as a claim in progress;
    the rows exist already, as they do after the first claim)."""
    await conn.execute(_MAKE, (list(keys),))
    await conn.execute("BEGIN")
    await conn.execute(_LOCK, (list(keys),))


async def _waiting_on_a_lock(db: AsyncConnection, pid: int) -> None:
    """Until the backend ``pid`` waits for a lock."""
    while True:
        cursor = await db.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = await cursor.fetchone()
        if row and row[0] == "Lock":
            return
        await asyncio.sleep(0.01)


async def test_a_claim_of_http_runs_does_not_wait_for_the_limits_of_calls(
    db: AsyncConnection, pg_url: str
) -> None:
    http = await queue_runs(db, 2, keys=HTTP_KEYS)
    async with await AsyncConnection.connect(pg_url, autocommit=True) as other:
        await _hold(other, "kind:call", "kind:command", "twilio")
        # Waiting for those rows would fail at once instead of hanging: none of them is needed.
        await db.execute("SET lock_timeout = '2s'")
        try:
            claims = await claim(db, "w", 5, LIMITS)
        finally:
            await db.execute("RESET lock_timeout")
            await other.execute("ROLLBACK")
    assert [c.run_id for c in claims] == [http[0]]  # http://a has one slot


async def test_a_claim_counts_the_runs_of_the_claim_it_waited_for(db: AsyncConnection, pg_url: str) -> None:
    first, second = await queue_runs(db, 2, keys=HTTP_KEYS)
    async with (
        await AsyncConnection.connect(pg_url, autocommit=True) as other,
        await AsyncConnection.connect(pg_url, autocommit=True) as claimer,
    ):
        # Another claim holds http://a's row and has taken its one slot, not yet committed.
        await _hold(other, "http://a", "kind:http")
        await other.execute("UPDATE runs SET status = 'running', attempt = 1 WHERE id = %s", (first,))
        pid = claimer.info.backend_pid
        waiting = asyncio.create_task(claim(claimer, "w", 5, LIMITS))
        await _waiting_on_a_lock(db, pid)
        await other.execute("COMMIT")
        claims = await waiting
    # It saw the committed running run after the lock was its own: the slot was full, nothing taken.
    assert claims == []
    assert await statuses(db, [first, second]) == {first: "running", second: "queued"}


async def test_a_full_key_held_by_another_claim_in_a_later_round_is_passed_over(
    db: AsyncConnection, pg_url: str
) -> None:
    # The first round takes the first HTTP run and finds http://a full; the next round meets a command
    # run whose key another claim holds: it is passed over (no waiting out of key order), not taken.
    http = await queue_runs(db, 3, priority=5, keys=HTTP_KEYS)
    command = await queue_runs(db, 1, priority=1, kind="command", keys=["kind:command"])
    other_http = await queue_runs(db, 1, keys=["kind:http", "http://b"])
    async with await AsyncConnection.connect(pg_url, autocommit=True) as other:
        await _hold(other, "kind:command")
        await db.execute("SET lock_timeout = '2s'")
        try:
            claims = await claim(db, "w", 2, LIMITS)
        finally:
            await db.execute("RESET lock_timeout")
            await other.execute("ROLLBACK")
    assert [c.run_id for c in claims] == [http[0], other_http[0]]
    assert (await statuses(db, command)) == {command[0]: "queued"}


async def test_a_run_its_budget_must_admit_keeps_its_place_in_the_queue(db: AsyncConnection) -> None:
    before = await queue_runs(db, 1, priority=3, keys=["kind:http", "http://b"])
    calls = await queue_runs(db, 2, priority=2, kind="call", keys=["kind:call", "twilio"])
    after = await queue_runs(db, 1, priority=1, keys=["kind:http", "http://b"])
    rules = BatchBudgets(CallBudgetSpec(max_calls=1))
    claims = await claim(db, "w", 5, Limits(per_key={"twilio": 5}), rules=rules)
    # The first call is admitted (and counted), the second refused by the batch's budget.
    assert [c.run_id for c in claims] == [before[0], calls[0], after[0]]
    assert await statuses(db, calls) == {calls[0]: "running", calls[1]: "skipped"}
    cursor = await db.execute("SELECT calls FROM batch_budgets")
    assert await cursor.fetchall() == [(1,)]
