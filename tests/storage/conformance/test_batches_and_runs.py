"""Conformance: batches created with their runs, listed with counts; runs paged, queued, last results."""

from __future__ import annotations

from datetime import UTC, datetime

from callboard.core.models import BatchStatus, RunResult, RunStatus
from callboard.core.models.dial_intent import DialIntent
from callboard.storage.interface import ResultWriting, StoreBackend
from tests.storage.conformance.helpers import queue


async def test_create_counts_ids_and_runs(store: StoreBackend) -> None:
    batch, ids = await queue(store, ["a", "b", "c"], trials=2, skip={"b": "not today"}, priority=3)
    assert batch.counts.total == 6 and batch.counts.queued == 4 and batch.counts.skipped == 2
    assert ids == list(range(ids[0], ids[0] + 6))
    runs = sorted(await store.runs.page(batch_id=batch.id), key=lambda run: run.id)
    assert [(run.test_name, run.trial, run.status.value) for run in runs] == [
        ("a", 1, "queued"), ("a", 2, "queued"), ("b", 1, "skipped"), ("b", 2, "skipped"),
        ("c", 1, "queued"), ("c", 2, "queued"),
    ]  # fmt: skip
    assert {run.priority for run in runs} == {3}
    assert runs[2].skip_reason == "not today" and runs[2].finished_at is not None
    got = await store.batches.get(batch.id)
    assert got is not None and got.selector == {"names": ["a", "b", "c"]} and got.counts == batch.counts
    assert await store.batches.get(batch.id + 100) is None


async def test_list_newest_first_with_counts_and_status(store: StoreBackend) -> None:
    first, _ = await queue(store, ["a"])
    second, _ = await queue(store, ["a", "b"])
    assert await store.batches.mark_finished(first.id, BatchStatus.CANCELLED)
    assert not await store.batches.mark_finished(999)
    listed = await store.batches.list()
    assert [b.id for b in listed] == [second.id, first.id]
    assert [b.counts.total for b in listed] == [2, 1]
    assert [b.id for b in await store.batches.list(status="cancelled")] == [first.id]
    assert [b.id for b in await store.batches.list(before_id=second.id)] == [first.id]
    assert [b.id for b in await store.batches.list(limit=1)] == [second.id]
    counts = await store.batches.counts(second.id)
    assert counts.total == 2 and counts.queued == 2


async def test_page_filters_and_keyset(store: StoreBackend, writer: ResultWriting) -> None:
    batch, ids = await queue(store, ["a", "b", "c", "d"])
    assert await writer.mark_started(ids[0], 1, datetime.now(UTC))
    assert [run.id for run in await store.runs.page()] == ids[::-1]
    assert [run.id for run in await store.runs.page(limit=2)] == [ids[3], ids[2]]
    assert [run.id for run in await store.runs.page(before_id=ids[2])] == [ids[1], ids[0]]
    assert [run.id for run in await store.runs.page(status="running")] == [ids[0]]
    assert [run.id for run in await store.runs.page(status=["running", "queued"], limit=2)] == [
        ids[3],
        ids[2],
    ]
    b = await store.tests.get("b")
    assert b is not None
    assert [run.id for run in await store.runs.page(test_id=b.id, kind="http", batch_id=batch.id)] == [ids[1]]
    assert await store.runs.count() == 4 and await store.runs.count("queued") == 3
    assert await store.runs.get(ids[0]) is not None and await store.runs.get(ids[-1] + 1) is None


async def test_queued_by_priority_then_fifo(store: StoreBackend) -> None:
    _, low = await queue(store, ["a", "b"], priority=0)
    _, high = await queue(store, ["c"], priority=5)
    assert [run.id for run in await store.runs.queued(None)] == [*high, *low]
    assert [run.id for run in await store.runs.queued(2)] == [high[0], low[0]]


async def test_last_results_follow_finished_runs(store: StoreBackend, writer: ResultWriting) -> None:
    _, ids = await queue(store, ["a", "b"])
    assert await store.runs.last_results() == {}
    now = datetime.now(UTC)
    assert await writer.mark_started(ids[0], 1, now)
    assert await writer.finish(ids[0], 1, RunResult(status=RunStatus.PASSED, score=0.5), now, 12.0)
    a = await store.tests.get("a")
    assert a is not None
    last = (await store.runs.last_results())[a.id]
    assert last.status is RunStatus.PASSED and last.score == 0.5 and last.finished_at is not None
    assert set(await store.runs.last_results()) == {a.id}


async def test_dial_intents_of_queued_runs_without_a_sid(store: StoreBackend, writer: ResultWriting) -> None:
    _, ids = await queue(store, ["a", "b"])
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for run_id in ids:
        assert await writer.mark_started(run_id, 1, at)
        assert await writer.set_dial_intent(run_id, 1, DialIntent("+15550001", "+15550002", at))
    assert await writer.set_external_id(ids[1], 1, "CA123")
    assert await writer.requeue(ids[0], 1) and await writer.requeue(ids[1], 1)
    assert await store.runs.dial_intents() == {ids[0]: DialIntent("+15550001", "+15550002", at)}
