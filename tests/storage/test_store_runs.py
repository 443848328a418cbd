"""The runs repository: keyset pages, the queue order, the last result of each test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from callboard.core.models import CheckResult, RunResult, RunStatus, TestDefinition
from callboard.storage import BatchEntry, ResultWriter, Store

QueueRuns = Callable[..., Awaitable[list[int]]]
MakeTest = Callable[..., TestDefinition]
NOW = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


async def _finish(writer: ResultWriter, run_id: int, status: RunStatus) -> None:
    assert await writer.mark_started(run_id, 1, NOW)
    assert await writer.finish(run_id, 1, RunResult(status=status), NOW, 10.0)


async def test_pages_are_newest_first_and_cover_every_run_once(store: Store, queue_runs: QueueRuns) -> None:
    ids = await queue_runs(count=5, trials=5)

    seen: list[int] = []
    before: int | None = None
    while page := await store.runs.page(before_id=before, limit=7):
        seen.extend(run.id for run in page)
        before = page[-1].id

    assert seen == sorted(ids, reverse=True)


async def test_pages_filter_by_status_batch_test_and_kind(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    ids = await queue_runs(count=3, trials=2)
    await _finish(writer, ids[0], RunStatus.PASSED)
    await _finish(writer, ids[1], RunStatus.FAILED)
    assert await writer.mark_started(ids[2], 1, NOW)
    t1 = await store.tests.get("t1")
    assert t1 is not None

    assert [r.id for r in await store.runs.page(status="passed")] == [ids[0]]
    assert [r.id for r in await store.runs.page(status=RunStatus.RUNNING)] == [ids[2]]
    assert [r.id for r in await store.runs.page(status=["passed", "failed"])] == [ids[1], ids[0]]
    assert [r.id for r in await store.runs.page(test_id=t1.id)] == [ids[3], ids[2]]
    assert [r.id for r in await store.runs.page(status="queued", test_id=t1.id)] == [ids[3]]
    assert len(await store.runs.page(kind="http")) == 6
    assert await store.runs.page(kind="call") == []
    assert await store.runs.page(batch_id=9999) == []


async def test_get_returns_everything_the_writer_stored(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    [run_id] = await queue_runs(count=1)
    result = RunResult(
        status=RunStatus.FAILED,
        checks=[CheckResult(name="status", passed=False, expected=200, actual=500, message="got 500")],
        metrics={"latency_ms": 12.5},
        error_kind=None,
    )
    assert await writer.mark_started(run_id, 1, NOW)
    assert await writer.set_external_id(run_id, 1, "CA123")
    assert await writer.finish(run_id, 1, result, NOW, 12.5)

    run = await store.runs.get(run_id)

    assert run is not None
    assert run.status is RunStatus.FAILED and run.attempt == 1 and run.external_id == "CA123"
    assert run.checks == result.checks and run.metrics == {"latency_ms": 12.5} and run.score == 0.0
    assert run.started_at == NOW and run.finished_at == NOW and run.duration_ms == 12.5
    assert run.queued_at.tzinfo is not None and run.queued_at.utcoffset() == UTC.utcoffset(None)
    assert await store.runs.get(run_id + 1) is None


async def test_last_results_are_the_newest_final_run_of_each_test(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    ids = await queue_runs(count=3, trials=3)  # t0: ids[0:3], t1: ids[3:6], t2: ids[6:9]
    await _finish(writer, ids[0], RunStatus.PASSED)
    await _finish(writer, ids[1], RunStatus.FAILED)
    assert await writer.mark_started(ids[2], 1, NOW)  # newer but still running
    await _finish(writer, ids[4], RunStatus.ERROR)
    t0, t1 = await store.tests.get("t0"), await store.tests.get("t1")
    assert t0 is not None and t1 is not None

    last = await store.runs.last_results()

    assert {test_id: result.status for test_id, result in last.items()} == {
        t0.id: RunStatus.FAILED,
        t1.id: RunStatus.ERROR,
    }
    finished = await store.runs.get(ids[1])
    assert finished is not None and last[t0.id].finished_at == finished.finished_at


async def test_queued_is_highest_priority_first_then_oldest(store: Store, make_test: MakeTest) -> None:
    await store.tests.upsert_many([make_test("low"), make_test("high", priority=50)])
    low, high = await store.tests.get("low"), await store.tests.get("high")
    assert low is not None and high is not None
    first = (await store.batches.create("first", "cli", 0, {}, [BatchEntry(low, trials=2)])).batch
    second = (await store.batches.create("second", "cli", 0, {}, [BatchEntry(high), BatchEntry(low)])).batch
    urgent = (await store.batches.create("urgent", "api", 100, {}, [BatchEntry(low)])).batch

    queued = await store.runs.queued(limit=10)

    assert [(run.batch_id, run.test_name, run.priority) for run in queued] == [
        (urgent.id, "low", 100),
        (second.id, "high", 50),
        (first.id, "low", 0),
        (first.id, "low", 0),
        (second.id, "low", 0),
    ]
    assert queued[2].id < queued[3].id < queued[4].id
    assert len(await store.runs.queued(limit=2)) == 2
    assert len(await store.runs.queued(limit=None)) == 5


async def test_count_by_status(store: Store, writer: ResultWriter, queue_runs: QueueRuns) -> None:
    ids = await queue_runs(count=4)
    await _finish(writer, ids[0], RunStatus.PASSED)

    assert await store.runs.count() == 4
    assert await store.runs.count("queued") == 3
    assert await store.runs.count(["passed", "failed"]) == 1
