"""Conformance: the result writer's fenced writes (status and attempt) on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from callboard.core.models import CheckResult, RunResult, RunStatus, TranscriptEntry
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.interface import ResultWriting, StoreBackend
from tests.storage.conformance.helpers import queue


async def test_start_finish_is_fenced(store: StoreBackend, writer: ResultWriting) -> None:
    _, (run_id,) = await queue(store, ["a"])
    now = datetime.now(UTC)
    assert await writer.mark_started(run_id, 1, now)
    assert not await writer.mark_started(run_id, 1, now)  # no longer queued
    result = RunResult(
        status=RunStatus.FAILED,
        checks=[
            CheckResult(name="status", passed=True),
            CheckResult(name="body", passed=False, message="no"),
        ],
        metrics={"latency_ms": 12.5},
        transcript=[TranscriptEntry(speaker="user", text="hi [b]there[/b]")],
        artifacts={"log": "x"},
        error_kind=None,
    )
    assert not await writer.finish(run_id, 2, result, now, 3.0)  # a stale attempt changes nothing
    assert await writer.finish(run_id, 1, result, now, 3.0)
    assert not await writer.finish(run_id, 1, RunResult(status=RunStatus.PASSED), now, 1.0)  # never twice
    run = await store.runs.get(run_id)
    assert run is not None
    assert run.status is RunStatus.FAILED and run.attempt == 1 and run.duration_ms == 3.0
    assert run.score == 50.0 and [c.name for c in run.checks] == ["status", "body"]
    assert run.metrics == {"latency_ms": 12.5} and run.artifacts == {"log": "x"}
    assert run.transcript[0].text == "hi [b]there[/b]"
    with pytest.raises(ValueError, match="final status"):
        await writer.finish(run_id, 1, RunResult(status=RunStatus.RUNNING), now, 1.0)


async def test_requeue_next_attempt_and_external_id(store: StoreBackend, writer: ResultWriting) -> None:
    _, (run_id,) = await queue(store, ["a"], max_attempts=3)
    now = datetime.now(UTC)
    assert await writer.mark_started(run_id, 1, now)
    assert await writer.next_attempt(run_id, 1)
    assert not await writer.next_attempt(run_id, 1)  # the run is at attempt 2 now
    assert await writer.set_external_id(run_id, 2, "CA1")
    assert not await writer.set_external_id(run_id, 1, "CA2")
    assert not await writer.set_dial_intent(run_id, 1, DialIntent("+1", "+2", now))
    assert await writer.requeue(run_id, 2)
    assert not await writer.requeue(run_id, 2)
    run = await store.runs.get(run_id)
    assert run is not None
    assert (run.status, run.attempt, run.external_id, run.started_at) == (RunStatus.QUEUED, 2, "CA1", None)


async def test_cancel_and_skip_only_queued(store: StoreBackend, writer: ResultWriting) -> None:
    batch, ids = await queue(store, ["a", "b", "c", "d"])
    assert await writer.mark_started(ids[0], 1, datetime.now(UTC))
    assert await writer.cancel_queued([ids[2], ids[0], ids[1]]) == [ids[1], ids[2]]
    assert await writer.cancel_queued([ids[1]]) == []
    assert await writer.skip_queued([ids[3], ids[0]], "budget spent") == [ids[3]]
    assert await writer.finish_batch(batch.id, "cancelled")
    assert not await writer.finish_batch(batch.id + 10, "cancelled")
    statuses = {run.id: (run.status.value, run.skip_reason) for run in await store.runs.page()}
    assert statuses == {
        ids[0]: ("running", None),
        ids[1]: ("cancelled", None),
        ids[2]: ("cancelled", None),
        ids[3]: ("skipped", "budget spent"),
    }
    got = await store.batches.get(batch.id)
    assert got is not None and got.status.value == "cancelled" and got.finished_at is not None


async def test_writes_of_one_tick_commit_together(store: StoreBackend, writer: ResultWriting) -> None:
    _, ids = await queue(store, [f"t{i}" for i in range(50)])
    now = datetime.now(UTC)
    assert all(await asyncio.gather(*(writer.mark_started(run_id, 1, now) for run_id in ids)))
    assert await store.runs.count("running") == 50
    assert writer.fault is None
