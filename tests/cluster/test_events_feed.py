"""The API's events from the outbox against a real server (core.cluster.events.OutboxEvents): the queue's
real writes arrive as the API's events, in commit-safe order, the same on two daemons; a client resumes
on either daemon from an id the other gave it, and is told when the events it asks for were pruned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from callboard.core.cluster.events import OutboxEvents
from callboard.core.engine.events import EventsLost
from callboard.core.models import RunResult, RunStatus
from callboard.core.models.events import (
    BatchFinished,
    BatchProgress,
    EventBase,
    RunFinished,
    RunQueued,
    RunStarted,
    TestsChanged,
)
from callboard.storage.postgres import finishing, leases, notices, outbox
from callboard.storage.postgres.connection import connect, open_pool
from callboard.storage.postgres.migrations import migrate
from callboard.storage.postgres.queue import Claim, claim
from callboard.storage.postgres.reaper import reap
from tests.postgres.queue_rows import queue_runs

# A guard against a hang, never a measure: every wait below ends as soon as its event arrives.
_GUARD_S = 30.0


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to a fresh database at the latest schema."""
    conn = await connect(pg_url)
    await migrate(conn)
    yield conn
    await conn.close()


@pytest.fixture
async def pool(db: AsyncConnection, pg_url: str) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    """A daemon's pool on the migrated database."""
    opened = await open_pool(pg_url, max_size=4)
    yield opened
    await opened.close()


@pytest.fixture
async def feed(pool: AsyncConnectionPool[AsyncConnection], pg_url: str) -> AsyncIterator[OutboxEvents]:
    """One daemon's event feed, tailing the outbox."""
    events = OutboxEvents(pg_url, pool, progress_interval_s=3600)
    await events.start()
    yield events
    await events.close()


async def _submit(conn: AsyncConnection, count: int) -> tuple[int, list[int]]:
    """Queue a batch of ``count`` runs and announce it, as the cluster engine's submit does."""
    async with conn.transaction():
        run_ids = await queue_runs(conn, count)
        cursor = await conn.execute("SELECT batch_id FROM runs WHERE id = %s", (run_ids[0],))
        row = await cursor.fetchone()
        assert row is not None
        batch_id = int(row[0])
        await outbox.append(conn, "runs_queued", {"batch_id": batch_id, "run_ids": run_ids})
    return batch_id, run_ids


async def _until(
    events: AsyncGenerator[EventBase, None], last: Callable[[EventBase], bool]
) -> list[EventBase]:
    """Events from ``events`` up to and including the first for which ``last`` holds."""
    seen: list[EventBase] = []
    while True:
        event = await asyncio.wait_for(anext(events), _GUARD_S)
        seen.append(event)
        if last(event):
            return seen


def _finished(batch_id: int) -> Callable[[EventBase], bool]:
    return lambda event: isinstance(event, BatchFinished) and event.batch_id == batch_id


def _facts(events: Sequence[EventBase]) -> list[tuple[object, ...]]:
    """What a client sees of each event but progress (whose pace is each reader's own)."""
    return [
        (event.id, event.model_dump_json(exclude={"id"}))
        for event in events
        if not isinstance(event, BatchProgress)
    ]


async def _run_a_batch(db: AsyncConnection) -> tuple[int, list[int]]:
    """A batch of four runs: three claimed by a worker and finished passed, failed and error, one
    cancelled while queued; then batch finishing closes it."""
    batch_id, run_ids = await _submit(db, 4)
    claims = await claim(db, "worker-a", 3)
    results = {
        claims[0].run_id: RunResult(status=RunStatus.PASSED, score=100.0),
        claims[1].run_id: RunResult(
            status=RunStatus.FAILED, score=50.0, metrics={"llm_prompt_tokens": 40, "llm_completion_tokens": 2}
        ),
        claims[2].run_id: RunResult(status=RunStatus.ERROR, error_kind="timeout"),
    }
    for held in claims:
        assert await leases.finish(db, held.lease(), results[held.run_id], 12.5)
    assert (await notices.cancel(db, [run_ids[3]])).cancelled == (run_ids[3],)
    assert await finishing.finish_done_batches(db) == [batch_id]
    return batch_id, run_ids


async def test_the_queues_writes_arrive_as_the_apis_events(feed: OutboxEvents, db: AsyncConnection) -> None:
    events = feed.subscribe()
    first = asyncio.ensure_future(anext(events))  # subscribed before anything is written
    await asyncio.sleep(0)
    batch_id, run_ids = await _run_a_batch(db)
    seen = [await asyncio.wait_for(first, _GUARD_S), *await _until(events, _finished(batch_id))]
    await events.aclose()

    assert isinstance(seen[0], RunQueued)
    assert (seen[0].batch_id, seen[0].run_ids) == (batch_id, run_ids)
    started = [e for e in seen if isinstance(e, RunStarted)]
    assert sorted(e.run_id for e in started) == run_ids[:3]
    assert all(e.batch_id == batch_id and e.attempt == 1 and e.test_name.startswith("test-") for e in started)
    finished = {e.run_id: e for e in seen if isinstance(e, RunFinished)}
    assert {run_id: e.status for run_id, e in finished.items()} == {
        run_ids[0]: RunStatus.PASSED,
        run_ids[1]: RunStatus.FAILED,
        run_ids[2]: RunStatus.ERROR,
        run_ids[3]: RunStatus.CANCELLED,
    }
    assert (finished[run_ids[0]].score, finished[run_ids[0]].duration_ms) == (100.0, 12.5)
    assert finished[run_ids[2]].error_kind == "timeout"
    assert finished[run_ids[1]].test_name == "test-2"
    # The batch ends with its last progress, then its counts.
    progress, end = seen[-2:]
    assert isinstance(progress, BatchProgress) and isinstance(end, BatchFinished)
    counts = (progress.done, progress.total, progress.passed, progress.failed, progress.error)
    assert counts == (4, 4, 1, 1, 1)
    assert (progress.llm_tokens, progress.eta_s) == (42, 0.0)
    assert progress.rate_per_s > 0
    assert (end.status, end.total, end.passed, end.failed, end.error, end.cancelled, end.skipped) == (
        "finished",
        4,
        1,
        1,
        1,
        1,
        0,
    )
    assert end.pass_rate == pytest.approx(33.33)
    # Ids are the outbox's, each event's own, and the feed says where it has got.
    ids = [e.id for e in seen if not isinstance(e, BatchProgress)]
    assert len(set(ids)) == len(ids) and min(ids) > 0
    assert feed.last_id == end.id


async def test_published_events_go_through_the_outbox(feed: OutboxEvents, pool: AsyncConnectionPool) -> None:
    events = feed.subscribe()
    first = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    feed.publish(TestsChanged(how="import", count=3))
    changed = await asyncio.wait_for(first, _GUARD_S)
    await events.aclose()
    assert isinstance(changed, TestsChanged)
    assert (changed.how, changed.count) == ("import", 3)
    async with pool.connection() as conn:
        [row] = await outbox.read(conn)
    assert (row.id, row.kind) == (changed.id, "tests.changed")


async def test_events_come_in_commit_order_when_transactions_commit_out_of_order(
    feed: OutboxEvents, db: AsyncConnection, pg_url: str
) -> None:
    batch_id, run_ids = await _submit(db, 2)
    events = feed.subscribe(feed.last_id)
    older, younger = [await AsyncConnection.connect(pg_url) for _ in range(2)]  # explicit transactions
    try:
        await older.execute("SELECT pg_current_xact_id()")  # the older transaction takes its xid first
        [young] = await claim(younger, "worker-young", 1)  # …the younger claims and commits at once
        await younger.commit()
        await _until_true(lambda: feed.held_back)  # the feed has read past the younger commit's event
        [old] = await claim(older, "worker-old", 1)  # a later id, in the older transaction
        await older.commit()
        assert old.run_id != young.run_id
        seen = await _until(events, lambda e: isinstance(e, RunStarted) and e.run_id == young.run_id)
    finally:
        await older.close()
        await younger.close()
        await events.aclose()
    started = [e for e in seen if isinstance(e, RunStarted)]
    # The younger claim's event has the lower id, but commit order puts the older transaction first:
    # a feed that passed it before the older one committed would have lost the older one's event.
    assert [e.run_id for e in started] == [old.run_id, young.run_id]
    assert started[0].id > started[1].id
    assert {e.run_id for e in started} == set(run_ids)
    assert batch_id == started[0].batch_id


async def _until_true(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(_GUARD_S):
        while not condition():
            await asyncio.sleep(0.01)


async def _second_daemon(pg_url: str) -> tuple[AsyncConnectionPool[AsyncConnection], OutboxEvents]:
    pool = await open_pool(pg_url, max_size=4)
    feed = OutboxEvents(pg_url, pool, progress_interval_s=3600)
    await feed.start()
    return pool, feed


async def test_two_daemons_serve_the_same_events_and_resume_each_others_clients(
    feed: OutboxEvents, db: AsyncConnection, pg_url: str
) -> None:
    other_pool, other = await _second_daemon(pg_url)
    try:
        on_a, on_b = feed.subscribe(feed.last_id), other.subscribe(other.last_id)
        batch_id, _ = await _run_a_batch(db)
        seen_a = await _until(on_a, _finished(batch_id))
        seen_b = await _until(on_b, _finished(batch_id))
        await on_a.aclose()
        await on_b.aclose()
        assert _facts(seen_a) == _facts(seen_b)
        # A batch's last progress is read from the store, so it too is the same on both.
        assert isinstance(seen_a[-2], BatchProgress)
        assert seen_a[-2].model_dump() == seen_b[-2].model_dump()
        # Both tails get as far (a subscriber's replay may run ahead of its daemon's tail).
        await _until_true(lambda: feed.last_id == other.last_id == seen_a[-1].id)

        # A client of daemon A that got as far as the second run.started reconnects to daemon B.
        got = [e for e in seen_a if isinstance(e, RunStarted)][1]
        rest_on_a = seen_a[seen_a.index(got) + 1 :]
        resumed = other.subscribe(got.id)
        rest_on_b = await _until(resumed, _finished(batch_id))
        await resumed.aclose()
        assert _facts(rest_on_b) == _facts(rest_on_a)

        # Live events after the replay come once, from the live tail.
        resumed = other.subscribe(got.id)
        await _until(resumed, _finished(batch_id))
        second_batch, _ = await _run_a_batch(db)
        live = await _until(resumed, _finished(second_batch))
        await resumed.aclose()
        assert isinstance(live[0], RunQueued) and live[0].batch_id == second_batch
        assert len(_facts(live)) == len({fact[0] for fact in _facts(live)})
    finally:
        await other.close()
        await other_pool.close()


async def test_a_replay_from_the_start_then_events_lost_after_a_prune(
    feed: OutboxEvents, db: AsyncConnection, pool: AsyncConnectionPool
) -> None:
    batch_id, _ = await _run_a_batch(db)
    live = feed.subscribe(0)
    everything = await _until(live, _finished(batch_id))
    await live.aclose()
    assert isinstance(everything[0], RunQueued)
    newest = everything[-1].id

    async with pool.connection() as conn:
        # Events younger than the bound stay.
        assert await outbox.prune(conn, older_than_s=3600) == 0
        assert await outbox.prune(conn, older_than_s=0) > 0
    for gone in (0, everything[0].id):
        with pytest.raises(EventsLost):
            await anext(feed.subscribe(gone))
    # The newest event is kept, so a client that saw it carries on.
    after_prune = feed.subscribe(newest)
    next_batch, _ = await _run_a_batch(db)
    later = await _until(after_prune, _finished(next_batch))
    await after_prune.aclose()
    assert isinstance(later[0], RunQueued) and later[0].batch_id == next_batch


async def test_a_worker_reaped_run_ends_in_error_and_a_lost_lease_writes_nothing(
    feed: OutboxEvents, db: AsyncConnection
) -> None:
    """Claims past their lease are returned by the reaper; a run whose attempts are spent ends
    ``error`` and the feed says so."""
    batch_id, [run_id] = await _submit(db, 1)
    events = feed.subscribe(feed.last_id)
    [held] = await claim(db, "worker-gone", 1, lease_s=0.001)
    assert isinstance(held, Claim)
    await _wait_for_expiry(db, run_id)
    reaped = await reap(db)
    assert reaped.errored == (run_id,)
    assert not await leases.finish(db, held.lease(), RunResult(status=RunStatus.PASSED), 1.0)
    await finishing.finish_done_batches(db)
    seen = await _until(events, _finished(batch_id))
    await events.aclose()
    [ended] = [e for e in seen if isinstance(e, RunFinished)]
    assert (ended.run_id, ended.status) == (run_id, RunStatus.ERROR)


async def _wait_for_expiry(db: AsyncConnection, run_id: int) -> None:
    cursor = await db.execute("SELECT lease_until FROM runs WHERE id = %s", (run_id,))
    row = await cursor.fetchone()
    assert row is not None
    await db.execute("SELECT pg_sleep(GREATEST(0, EXTRACT(EPOCH FROM %s - now())) + 0.01)", (row[0],))


async def test_progress_goes_on_while_a_long_run_is_going(
    pool: AsyncConnectionPool, db: AsyncConnection, pg_url: str
) -> None:
    """No row comes while a run goes on, yet followers get progress now and then (its ETA must not
    freeze); the rows' ids stay the clients' place."""
    feed = OutboxEvents(pg_url, pool, progress_interval_s=0.01)
    await feed.start()
    try:
        batch_id, [run_id, _] = await _submit(db, 2)
        events = feed.subscribe(feed.last_id)
        await claim(db, "worker-a", 1)
        seen = await _until(events, lambda e: isinstance(e, BatchProgress) and e.id == feed.last_id)
        started = [e for e in seen if isinstance(e, RunStarted)]
        beat = await _until(events, lambda e: True)
        await events.aclose()
    finally:
        await feed.close()
    assert [e.run_id for e in started] == [run_id]
    assert isinstance(beat[0], BatchProgress)
    assert (beat[0].batch_id, beat[0].done, beat[0].total, beat[0].id) == (batch_id, 0, 2, started[0].id)


async def test_a_row_lacking_what_its_kind_needs_is_left_out_and_the_stream_goes_on(
    feed: OutboxEvents, db: AsyncConnection
) -> None:
    events = feed.subscribe(feed.last_id)
    async with db.transaction():
        await outbox.append(db, "run_finished", {"attempt": 1})
        await outbox.append(db, "runs_queued", {"batch_id": "seven"})
    feed.publish(TestsChanged(how="delete", count=1))
    [changed] = await _until(events, lambda e: True)
    await events.aclose()
    assert isinstance(changed, TestsChanged) and changed.how == "delete"


async def test_a_subscriber_too_far_behind_is_cut_off_and_resumes_from_the_store(
    feed: OutboxEvents, db: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("callboard.core.cluster.events.SUBSCRIBER_QUEUE", 5)
    slow = feed.subscribe(feed.last_id)
    first = asyncio.ensure_future(anext(slow))  # subscribed, then not reading for a while
    await asyncio.sleep(0)
    batch_id, _ = await _run_a_batch(db)  # more events than its queue holds
    newest = (await outbox.end(db)).id
    await _until_true(lambda: feed.last_id == newest)
    got = [await asyncio.wait_for(first, _GUARD_S)]
    with pytest.raises(StopAsyncIteration):
        while True:
            got.append(await asyncio.wait_for(anext(slow), _GUARD_S))
    assert len(got) <= 6  # what its queue held: it was cut off, not left to grow
    resumed = feed.subscribe(got[-1].id)
    rest = await _until(resumed, _finished(batch_id))
    await resumed.aclose()
    # Nothing is lost across the cut: every run's end arrives, once.
    ended = [e.run_id for e in got + rest if isinstance(e, RunFinished)]
    assert len(ended) == len(set(ended)) == 4
