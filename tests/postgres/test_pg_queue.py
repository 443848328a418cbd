"""Claiming from PostgreSQL against a real server: concurrent claimers, order, limits, leases, fencing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from psycopg import AsyncConnection

from callboard.core.models import RunResult, RunStatus
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.postgres import leases
from callboard.storage.postgres.queue import Limits, claim, heartbeat, label, register
from callboard.storage.postgres.reaper import Reaped, reap
from tests.postgres.queue_rows import NOW, queue_runs, statuses

PASSED = RunResult(status=RunStatus.PASSED)


async def _connections(url: str, count: int) -> list[AsyncConnection]:
    return [await AsyncConnection.connect(url, autocommit=True) for _ in range(count)]


async def _wait_expired(conn: AsyncConnection, run_id: int) -> None:
    """Until the database clock is past the run's lease."""
    while True:
        cursor = await conn.execute("SELECT lease_until < now() FROM runs WHERE id = %s", (run_id,))
        row = await cursor.fetchone()
        if row and row[0]:
            return
        await asyncio.sleep(0.02)


async def test_concurrent_claimers_never_claim_the_same_run(db: AsyncConnection, pg_url: str) -> None:
    ids = await queue_runs(db, 300)
    conns = await _connections(pg_url, 6)

    async def drain(conn: AsyncConnection, owner: str) -> list[int]:
        taken: list[int] = []
        while claims := await claim(conn, owner, 7):
            taken.extend(c.run_id for c in claims)
        return taken

    try:
        results = await asyncio.gather(*(drain(conn, f"w{i}") for i, conn in enumerate(conns)))
    finally:
        for conn in conns:
            await conn.close()
    everything = [run_id for taken in results for run_id in taken]
    assert sorted(everything) == ids  # each run once, none left behind
    assert sum(1 for taken in results if taken) >= 2  # the claimers really did share the queue
    cursor = await db.execute("SELECT DISTINCT status, attempt FROM runs")
    assert await cursor.fetchall() == [("running", 1)]


async def test_claims_take_priority_then_queue_order(db: AsyncConnection) -> None:
    low = await queue_runs(db, 3, priority=0)
    high = await queue_runs(db, 2, priority=5)
    middle = await queue_runs(db, 2, priority=2)
    first = await claim(db, "w", 4)
    second = await claim(db, "w", 10)
    assert [c.run_id for c in first] == [*high, *middle]
    assert [c.run_id for c in second] == low
    assert await claim(db, "w", 10) == []


async def test_a_full_key_is_passed_over_for_runs_that_may_start(db: AsyncConnection) -> None:
    busy = await queue_runs(db, 3, priority=9, keys=["kind:call", "twilio"])
    free = await queue_runs(db, 3, keys=["kind:http", "http://a"])
    claims = await claim(db, "w", 3, Limits(per_key={"twilio": 1}))
    assert [c.run_id for c in claims] == [busy[0], free[0], free[1]]
    # A second claim finds twilio still full: only HTTP runs start.
    assert [c.run_id for c in await claim(db, "w", 5, Limits(per_key={"twilio": 1}))] == [free[2]]


async def test_limits_hold_under_concurrent_claims(db: AsyncConnection, pg_url: str) -> None:
    await queue_runs(db, 60, keys=["kind:http", "http://a"])
    await queue_runs(db, 60, keys=["kind:http", "http://b"])
    await queue_runs(db, 60, kind="command", keys=["kind:command"])
    limits = Limits(total=10, per_key={"http://a": 3, "kind:http": 5})
    conns = await _connections(pg_url, 5)
    try:
        for round_number in range(6):
            batches = await asyncio.gather(*(claim(conn, f"w{i}", 4, limits) for i, conn in enumerate(conns)))
            cursor = await db.execute(
                "SELECT count(*) FILTER (WHERE 'http://a' = ANY(limit_keys)),"
                " count(*) FILTER (WHERE kind = 'http'), count(*) FROM runs WHERE status = 'running'"
            )
            on_a, http, total = await cursor.fetchone() or (0, 0, 0)
            assert on_a <= 3 and http <= 5 and total <= 10, (round_number, on_a, http, total)
            assert total == 10  # the limits were filled, not merely respected
            # Finish two of what this round claimed, so the next round competes for freed slots.
            finished = [c for claims in batches for c in claims][:2]
            for c in finished:
                assert await leases.finish(db, c.lease(), PASSED, 1.0)
    finally:
        for conn in conns:
            await conn.close()


async def test_heartbeat_renews_leases_and_reports_lost_runs(db: AsyncConnection) -> None:
    ids = await queue_runs(db, 2)
    await register(db, "w", "host-1", 4242)
    claims = await claim(db, "w", 2, lease_s=0.05)
    await _wait_expired(db, ids[0])
    beat = await heartbeat(db, "w", lease_s=60)
    assert beat.held == set(ids) and beat.cancel == set()
    assert await reap(db) == Reaped()  # renewed: nothing to reap
    assert await leases.finish(db, claims[0].lease(), PASSED, 1.0)
    assert (await heartbeat(db, "w")).held == {ids[1]}
    cursor = await db.execute("SELECT host, pid FROM workers WHERE id = 'w'")
    assert await cursor.fetchone() == ("host-1", 4242)


async def test_a_worker_that_lost_its_lease_changes_nothing(db: AsyncConnection) -> None:
    [run_id] = await queue_runs(db, 1, max_attempts=3)
    [stale] = await claim(db, "frozen", 1, lease_s=0.05)
    await _wait_expired(db, run_id)
    reaped = await reap(db)
    assert reaped.requeued == (run_id,)
    [fresh] = await claim(db, "alive", 1)
    assert fresh.attempt == stale.attempt + 1
    # The frozen worker wakes up and tries every write it could make: all refused.
    intent = DialIntent("+15555550100", "+15555550199", datetime.now(UTC))
    assert not await leases.set_external_id(db, stale.lease(), "CA-stale")
    assert not await leases.set_dial_intent(db, stale.lease(), intent)
    assert await leases.next_attempt(db, stale.lease()) is None
    assert not await leases.requeue(db, stale.lease())
    assert not await leases.finish(db, stale.lease(), RunResult(status=RunStatus.FAILED), 5.0)
    # Same attempt number, another owner: the owner is part of the fence too.
    assert not await leases.finish(db, leases.Lease(run_id, fresh.attempt, "frozen"), PASSED, 1.0)
    assert await leases.finish(db, fresh.lease(), PASSED, 2.0)
    cursor = await db.execute(
        "SELECT status, attempt, external_id, duration_ms, lease_owner FROM runs WHERE id = %s", (run_id,)
    )
    assert await cursor.fetchone() == ("passed", 2, None, 2.0, None)
    cursor = await db.execute("SELECT count(*) FROM dial_intents")
    assert await cursor.fetchone() == (0,)
    assert not await leases.finish(db, fresh.lease(), PASSED, 2.0)  # never finished twice


async def test_a_dial_intent_needs_a_live_lease(db: AsyncConnection) -> None:
    [run_id] = await queue_runs(db, 1, kind="call")
    [held] = await claim(db, "w", 1, lease_s=0.05)
    intent = DialIntent("+15555550100", "+15555550199", datetime.now(UTC))
    await _wait_expired(db, run_id)
    assert not await leases.set_dial_intent(db, held.lease(), intent)  # expired, even before any reap
    await heartbeat(db, "w", lease_s=60)
    assert await leases.set_dial_intent(db, held.lease(), intent)
    assert await leases.set_external_id(db, held.lease(), "CA123")
    assert await leases.set_dial_intent(db, held.lease(), None)
    retry = await leases.next_attempt(db, held.lease())
    assert retry is not None and retry.attempt == 2
    assert await leases.finish(db, retry, PASSED, 1.0)


async def test_the_reaper_resumes_resolves_requeues_or_gives_up(db: AsyncConnection) -> None:
    plain, spent = await queue_runs(db, 1, max_attempts=2), await queue_runs(db, 1, max_attempts=1)
    with_sid, with_intent = await queue_runs(db, 1, kind="call"), await queue_runs(db, 1, kind="call")
    claims = {c.run_id: c for c in await claim(db, "dead", 4, lease_s=0.05)}
    intent = DialIntent("+15555550100", "+15555550199", datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert await leases.set_external_id(db, claims[with_sid[0]].lease(), "CA-placed")
    assert await leases.set_dial_intent(db, claims[with_intent[0]].lease(), intent)
    # Neither a live worker's run nor one the single-process engine runs (no lease) may be touched.
    live = await queue_runs(db, 1)
    await claim(db, "alive", 1, lease_s=60)
    engine = await queue_runs(db, 1)
    await db.execute("UPDATE runs SET status = 'running', attempt = 1 WHERE id = %s", (engine[0],))
    for run_id in claims:
        await _wait_expired(db, run_id)

    reaped = await reap(db)
    assert reaped.requeued == tuple(plain)
    assert reaped.errored == tuple(spent)
    assert reaped.resuming == tuple(with_sid)
    assert reaped.resolving == tuple(with_intent)
    assert await statuses(db, [*plain, *spent, *with_sid, *with_intent, *live, *engine]) == {
        plain[0]: "queued", spent[0]: "error", with_sid[0]: "queued", with_intent[0]: "queued",
        live[0]: "running", engine[0]: "running",
    }  # fmt: skip
    cursor = await db.execute("SELECT error_kind, finished_at IS NOT NULL FROM runs WHERE id = %s", spent)
    assert await cursor.fetchone() == ("interrupted", True)

    # The next claimer gets what it needs to resume the call, or to look it up instead of dialling.
    again = {c.run_id: c for c in await claim(db, "next", 10)}
    assert set(again) == {plain[0], with_sid[0], with_intent[0]}
    assert again[with_sid[0]].external_id == "CA-placed" and again[with_sid[0]].dial_intent is None
    assert again[with_intent[0]].external_id is None and again[with_intent[0]].dial_intent == intent
    assert again[plain[0]].attempt == 2


async def test_a_call_is_not_resumed_for_ever(db: AsyncConnection) -> None:
    [run_id] = await queue_runs(db, 1, kind="call")
    outcomes = []
    for n in range(5):
        claims = await claim(db, f"dies-{n}", 1, lease_s=0.05)
        if not claims:
            break
        if n == 0:
            assert await leases.set_external_id(db, claims[0].lease(), "CA-1")
        await _wait_expired(db, run_id)
        reaped = await reap(db)
        outcomes.append("error" if reaped.errored else "resume")
    assert outcomes == ["resume", "resume", "error"]  # max_attempts 1 + RESUMES 2 claims


async def test_runs_are_claimed_only_once_labelled_with_their_limit_keys(db: AsyncConnection) -> None:
    cursor = await db.execute(
        "INSERT INTO tests (name, kind, definition, digest, created_at, updated_at)"
        " VALUES ('t', 'http', '{\"name\": \"t\"}', 'd', %s, %s) RETURNING version_id",
        (NOW, NOW),
    )
    [version_id] = await cursor.fetchone() or (None,)
    [run_id] = await queue_runs(db, 1)
    await db.execute("UPDATE runs SET limit_keys = '{}', version_id = %s WHERE id = %s", (version_id, run_id))
    assert await claim(db, "w", 5) == []  # its limits are not known yet
    seen: list[tuple[int, str]] = []

    def keys_of(version: int, definition: str) -> tuple[str, ...]:
        seen.append((version, definition))
        return ("kind:http", "http://a:80")

    assert await label(db, keys_of) == 1
    assert seen == [(version_id, '{"name": "t"}')]
    assert await label(db, keys_of) == 0  # nothing left to label
    [taken] = await claim(db, "w", 5, Limits(per_key={"http://a:80": 1}))
    assert (taken.run_id, taken.limit_keys) == (run_id, ("kind:http", "http://a:80"))


async def test_finishing_many_in_one_commit_writes_only_the_held_ones(db: AsyncConnection) -> None:
    first, lost, last = await queue_runs(db, 3, max_attempts=2)
    claims = {c.run_id: c for c in await claim(db, "w", 3)}
    await db.execute("UPDATE runs SET lease_owner = 'another' WHERE id = %s", (lost,))  # taken over
    items = [(claims[run_id].lease(), PASSED, 1.0) for run_id in (first, lost, last)]
    assert await leases.finish_many(db, items) == [True, False, True]
    assert await statuses(db, [first, lost, last]) == {first: "passed", lost: "running", last: "passed"}
    cursor = await db.execute("SELECT payload->>'run_id' FROM events WHERE kind = 'run_finished' ORDER BY id")
    assert [row[0] for row in await cursor.fetchall()] == [str(first), str(last)]
    assert await leases.finish_many(db, []) == []


async def test_workers_labelling_at_once_share_the_work(db: AsyncConnection, pg_url: str) -> None:
    cursor = await db.execute(
        "INSERT INTO tests (name, kind, definition, digest, created_at, updated_at)"
        " VALUES ('t', 'http', '{}', 'd', %s, %s) RETURNING version_id",
        (NOW, NOW),
    )
    [version_id] = await cursor.fetchone() or (None,)
    ids = await queue_runs(db, 2000)
    await db.execute("UPDATE runs SET limit_keys = '{}', version_id = %s", (version_id,))
    conns = await _connections(pg_url, 4)

    async def label_all(conn: AsyncConnection) -> int:
        total = 0
        while labelled := await label(conn, lambda version, definition: ("kind:http",), limit=100):
            total += labelled
        return total

    try:
        counts = await asyncio.gather(*(label_all(conn) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()
    assert sum(counts) == len(ids)  # each run labelled once, by one of them
    cursor = await db.execute("SELECT DISTINCT limit_keys FROM runs")
    assert await cursor.fetchall() == [(["kind:http"],)]


async def test_a_daemon_starting_beside_live_workers_leaves_their_leased_runs_alone(
    db: AsyncConnection, pg_url: str
) -> None:
    """Start-up recovery settles only the runs a single daemon left 'running' (no lease): a run a live
    worker holds under a lease keeps running, with its attempt, until that worker finishes it."""
    from callboard.storage.postgres.store import PgStore

    leased, unleased = await queue_runs(db, 2, max_attempts=2)
    await register(db, "w", "host", 1)
    [held] = await claim(db, "w", 1)
    assert held.run_id == leased
    await db.execute("UPDATE runs SET status = 'running', attempt = 1 WHERE id = %s", (unleased,))
    store = await PgStore.open(pg_url)
    try:
        assert await store.recovery.requeue_interrupted() == (1, 0)
    finally:
        await store.close()
    assert await statuses(db, [leased, unleased]) == {leased: "running", unleased: "queued"}
    assert await leases.finish(db, held.lease(), PASSED, 1.0)
