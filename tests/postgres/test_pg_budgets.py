"""Per-batch budgets held in PostgreSQL, against a real server: concurrent claimers never admit more calls
than the cap, refused runs are skipped with the engine's wording, a call already placed is only watched
again, and what finished runs spent (call minutes, model tokens, a fatal model error) is counted by the
worker's real group commit (``Finisher``) in the transaction that stores their results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from callboard.core.engine.budget import CallBudgetSpec
from callboard.core.models import RunResult, RunStatus
from callboard.core.worker.budgets import BatchBudgets, charge_of
from callboard.core.worker.finisher import Finisher
from callboard.storage.postgres.connection import open_pool
from callboard.storage.postgres.queue import Claim, claim
from callboard.storage.postgres.reaper import reap
from tests.postgres.queue_rows import queue_runs

CALL_KEYS = ["kind:call", "twilio"]
MODEL_KEYS = ["kind:conversation", "host:localhost:8700", "llm"]


@pytest.fixture
async def pool(pg_url: str, db: AsyncConnection) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    """A pool on the migrated database (``db`` migrated it)."""
    opened = await open_pool(pg_url, max_size=4)
    yield opened
    await opened.close()


async def _rows(conn: AsyncConnection, sql: str) -> list[tuple[object, ...]]:
    return list(await (await conn.execute(sql.encode())).fetchall())


async def test_concurrent_claimers_admit_no_more_calls_than_the_batch_budget(
    db: AsyncConnection, pg_url: str
) -> None:
    ids = await queue_runs(db, 40, kind="call", keys=CALL_KEYS)
    rules = BatchBudgets(CallBudgetSpec(max_calls=7))
    conns = [await AsyncConnection.connect(pg_url, autocommit=True) for _ in range(4)]

    async def drain(conn: AsyncConnection, owner: str) -> list[int]:
        taken: list[int] = []
        while claims := await claim(conn, owner, 2, rules=rules):
            taken.extend(c.run_id for c in claims)
        return taken

    try:
        taken = [
            run
            for got in await asyncio.gather(*(drain(c, f"w{i}") for i, c in enumerate(conns)))
            for run in got
        ]
    finally:
        for conn in conns:
            await conn.close()
    assert len(taken) == len(set(taken)) == 7
    skipped = await _rows(
        db, "SELECT id, skip_reason, attempt FROM runs WHERE status = 'skipped' ORDER BY id"
    )
    reason = "batch budget reached: 7 calls (twilio.batch_max_calls)"
    # Every other run was skipped, never started (so no attempt counted).
    assert skipped == [(run_id, reason, 0) for run_id in ids if run_id not in taken]
    assert await _rows(db, "SELECT calls FROM batch_budgets") == [(7,)]
    events = await _rows(
        db, "SELECT count(*) FROM events WHERE kind = 'run_finished' AND payload->>'status' = 'skipped'"
    )
    assert events == [(33,)]


async def test_a_placed_call_is_watched_again_whatever_the_budget_says(db: AsyncConnection) -> None:
    placed, intended, fresh = await queue_runs(db, 3, kind="call", keys=CALL_KEYS)
    await db.execute("UPDATE runs SET external_id = 'CA' || repeat('0', 32) WHERE id = %s", (placed,))
    await db.execute(
        "INSERT INTO dial_intents (run_id, to_number, from_number, created_at)"
        " VALUES (%s, '+15550100001', '+15550009999', '2026-01-01T00:00:00+00:00')",
        (intended,),
    )
    [[batch]] = await _rows(db, "SELECT id FROM batches")
    await db.execute("INSERT INTO batch_budgets (batch_id, calls) VALUES (%s, 1)", (batch,))
    claims = await claim(db, "w", 5, rules=BatchBudgets(CallBudgetSpec(max_calls=1)))
    # The SID is watched, the intent looked up; neither counts again. The fresh call does not fit.
    assert [c.run_id for c in claims] == [placed, intended]
    assert await _rows(db, "SELECT status, skip_reason FROM runs WHERE id = " + str(fresh)) == [
        ("skipped", "batch budget reached: 1 calls (twilio.batch_max_calls)")
    ]
    assert await _rows(db, "SELECT calls FROM batch_budgets") == [(1,)]


async def test_a_reaped_call_keeps_its_place_in_the_count(db: AsyncConnection) -> None:
    first, second = await queue_runs(db, 2, kind="call", keys=CALL_KEYS, max_attempts=2)
    rules = BatchBudgets(CallBudgetSpec(max_calls=1))
    [taken] = await claim(db, "lost", 2, lease_s=0.2, rules=rules)  # the other one does not fit
    assert taken.run_id == first
    await asyncio.sleep(0.3)
    await reap(db)  # its worker is gone before it dialled: back in the queue, attempt 1 kept
    [again] = await claim(db, "w", 2, rules=rules)
    assert (again.run_id, again.attempt) == (first, 2)
    assert await _rows(db, "SELECT id, status FROM runs ORDER BY id") == [
        (first, "running"),
        (second, "skipped"),
    ]
    assert await _rows(db, "SELECT calls FROM batch_budgets") == [(1,)]


async def _finish(
    pool: AsyncConnectionPool[AsyncConnection],
    rules: BatchBudgets,
    claims: list[Claim],
    results: list[RunResult],
) -> list[bool]:
    finisher = Finisher(pool, rules)
    finisher.start()
    try:
        return list(
            await asyncio.gather(
                *(
                    finisher.finish(c.lease(), result, 10.0, charge_of(c))
                    for c, result in zip(claims, results, strict=True)
                )
            )
        )
    finally:
        await finisher.close()


async def test_call_minutes_are_counted_when_results_are_stored(
    db: AsyncConnection, pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    ids = await queue_runs(db, 5, kind="call", keys=CALL_KEYS)
    rules = BatchBudgets(CallBudgetSpec(max_minutes=2))
    claims = await claim(db, "w", 2, rules=rules)
    ended = RunResult(status=RunStatus.PASSED, metrics={"duration_s": 61.0})
    assert await _finish(pool, rules, claims, [ended, ended]) == [True, True]
    assert await _rows(db, "SELECT calls, call_seconds FROM batch_budgets") == [(2, 122.0)]
    # 122 s is past two minutes: the rest of the batch is skipped, saying why.
    assert await claim(db, "w", 5, rules=rules) == []
    reason = "batch budget reached: 2 call minutes (twilio.batch_max_minutes)"
    assert await _rows(db, "SELECT DISTINCT skip_reason FROM runs WHERE status = 'skipped'") == [(reason,)]
    assert await _rows(db, "SELECT count(*) FROM runs WHERE status = 'skipped'") == [(len(ids) - 2,)]


async def test_a_lost_lease_spends_nothing(
    db: AsyncConnection, pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    await queue_runs(db, 1, kind="call", keys=CALL_KEYS)
    rules = BatchBudgets(CallBudgetSpec(max_minutes=2))
    [taken] = await claim(db, "w", 1, rules=rules)
    await db.execute("UPDATE runs SET lease_owner = 'someone-else'")
    ended = RunResult(status=RunStatus.PASSED, metrics={"duration_s": 500.0})
    assert await _finish(pool, rules, [taken], [ended]) == [False]
    assert await _rows(db, "SELECT call_seconds FROM batch_budgets") == [(0.0,)]


async def test_the_first_fatal_model_error_is_the_batch_one_error(
    db: AsyncConnection, pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    first, second, waiting = await queue_runs(db, 3, kind="conversation", keys=MODEL_KEYS)
    rules = BatchBudgets(max_tokens=None)
    claims = await claim(db, "w", 2, rules=rules)
    refused = RunResult(
        status=RunStatus.ERROR,
        error_kind="llm_auth",
        error_message="the model refused the key",
        metrics={"llm_prompt_tokens": 5.0},
    )
    assert await _finish(pool, rules, claims, [refused, refused]) == [True, True]
    reason = f"the model cannot be used (run {first}): the model refused the key"
    assert await claim(db, "w", 5, rules=rules) == []
    rows = await _rows(db, "SELECT id, status, error_kind, skip_reason FROM runs ORDER BY id")
    assert rows == [
        (first, "error", "llm_auth", None),
        (second, "skipped", None, reason),  # met the same refusal while it ran
        (waiting, "skipped", None, reason),  # never started
    ]
    assert await _rows(db, "SELECT model_tokens, model_fatal FROM batch_budgets") == [(10.0, reason)]


async def test_model_tokens_cap_the_batch(
    db: AsyncConnection, pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    await queue_runs(db, 4, kind="conversation", keys=MODEL_KEYS)
    http = await queue_runs(db, 1, kind="http", keys=["kind:http", "host:localhost:8700"])
    rules = BatchBudgets(max_tokens=100)
    claims = await claim(db, "w", 1, rules=rules)
    spent = RunResult(
        status=RunStatus.PASSED, metrics={"llm_prompt_tokens": 80.0, "llm_completion_tokens": 30.0}
    )
    assert await _finish(pool, rules, claims, [spent]) == [True]
    # The HTTP run needs no model (and is in another batch): it still starts.
    assert [c.run_id for c in await claim(db, "w", 5, rules=rules)] == http
    reason = "batch budget reached: 100 model tokens (llm.batch_max_tokens)"
    assert await _rows(db, "SELECT skip_reason, count(*) FROM runs WHERE status = 'skipped' GROUP BY 1") == [
        (reason, 3)
    ]


async def test_a_finished_run_written_by_the_finisher_without_a_budget_is_unchanged(
    db: AsyncConnection, pool: AsyncConnectionPool[AsyncConnection]
) -> None:
    await queue_runs(db, 1, kind="command", keys=["kind:command"])
    rules = BatchBudgets()
    claims = await claim(db, "w", 1, rules=rules)
    assert await _finish(pool, rules, claims, [RunResult(status=RunStatus.PASSED)]) == [True]
    assert await _rows(db, "SELECT status FROM runs") == [("passed",)]
    assert await _rows(db, "SELECT count(*) FROM batch_budgets") == [(0,)]  # nothing budgeted, no row
