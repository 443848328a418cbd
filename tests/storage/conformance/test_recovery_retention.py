"""Conformance: crash recovery of runs left 'running', and retention a whole batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callboard.core.models import BatchStatus, RunResult, RunStatus
from callboard.storage.interface import ResultWriting, StoreBackend
from tests.storage.conformance.helpers import queue
from tests.storage.conftest import http_test


async def test_requeue_interrupted(store: StoreBackend, writer: ResultWriting) -> None:
    _, spare = await queue(store, ["a"], max_attempts=2)
    _, spent = await queue(store, ["b"], max_attempts=1)
    _, untouched = await queue(store, ["c"])
    now = datetime.now(UTC)
    assert await writer.mark_started(spare[0], 1, now) and await writer.mark_started(spent[0], 1, now)
    assert await writer.set_external_id(spare[0], 1, "CA-spare")
    assert await store.recovery.interrupted_external_ids() == ["CA-spare"]
    assert await store.recovery.requeue_interrupted() == (1, 1)
    requeued, errored, queued = [await store.runs.get(i) for i in (spare[0], spent[0], untouched[0])]
    assert requeued is not None and requeued.status is RunStatus.QUEUED and requeued.external_id == "CA-spare"
    assert errored is not None and errored.status is RunStatus.ERROR and errored.error_kind == "interrupted"
    assert queued is not None and queued.status is RunStatus.QUEUED
    assert await store.recovery.requeue_interrupted() == (0, 0)


async def _finished_batch(store: StoreBackend, writer: ResultWriting, names: list[str]) -> int:
    batch, ids = await queue(store, names)
    now = datetime.now(UTC)
    for run_id in ids:
        assert await writer.mark_started(run_id, 1, now)
        assert await writer.finish(run_id, 1, RunResult(status=RunStatus.PASSED), now, 1.0)
    assert await store.batches.mark_finished(batch.id, BatchStatus.FINISHED)
    return batch.id


async def test_prune_by_runs_kept_spares_running_batches(store: StoreBackend, writer: ResultWriting) -> None:
    oldest = await _finished_batch(store, writer, ["a", "b"])
    middle = await _finished_batch(store, writer, ["a", "b"])
    running, _ = await queue(store, ["a", "b"])
    newest = await _finished_batch(store, writer, ["a"])
    result = await store.retention.prune(None, 3)
    assert (result.batches, result.runs) == (2, 4)
    assert {b.id for b in await store.batches.list()} == {running.id, newest}
    assert await store.runs.count() == 3
    assert oldest < middle


async def test_prune_by_age_and_unused_versions(store: StoreBackend, writer: ResultWriting) -> None:
    old = await _finished_batch(store, writer, ["a"])
    await store.tests.upsert_many([http_test("a", tags=["v2"])])  # version 1 is now only the old run's
    result = await store.retention.prune(datetime.now(UTC) + timedelta(seconds=1), None)
    assert (result.batches, result.runs) == (1, 1)
    assert await store.batches.get(old) is None
    nothing = await store.retention.prune(datetime.now(UTC) - timedelta(days=1), None)
    assert (nothing.batches, nothing.runs) == (0, 0)
    # The current definition is still a version: a new batch of it runs as version 2.
    batch, _ = await queue(store, ["a"])
    (run,) = await store.runs.page(batch_id=batch.id)
    assert run.test_version == 2 and run.snapshot["tags"] == ["v2"]
