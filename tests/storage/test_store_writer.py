"""The group-commit result writer: acknowledged means committed, guards, failures, closing."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callboard.core.models import CheckResult, RunResult, RunStatus, TranscriptEntry
from callboard.storage import ResultWriter, Store, StoreError, StoreLockedError

QueueRuns = Callable[..., Awaitable[list[int]]]
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
PASSED = RunResult(
    status=RunStatus.PASSED,
    checks=[CheckResult(name="status", passed=True, expected=200, actual=200)],
    metrics={"latency_ms": 20.5},
    transcript=[TranscriptEntry(speaker="agent", text="hello", start=0.0, end=0.8)],
    artifacts={"recording": "https://example.test/rec.wav"},
)


def _row(db_path: Path, run_id: int) -> sqlite3.Row:
    """The run as a separate connection sees it."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    finally:
        conn.close()


async def test_an_acknowledged_result_is_committed(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    [run_id] = await queue_runs(count=1)
    assert await writer.mark_started(run_id, 1, NOW)

    assert await writer.finish(run_id, 1, PASSED, NOW, 42.0)

    row = _row(store.path, run_id)
    assert (row["status"], row["attempt"], row["duration_ms"], row["score"]) == ("passed", 1, 42.0, 100.0)
    assert row["artifacts"] == '{"recording":"https://example.test/rec.wav"}'
    seen_by_another_process = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
            ".execute('SELECT status FROM runs WHERE id = ?', (int(sys.argv[2]),)).fetchone()[0])",
            str(store.path),
            str(run_id),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen_by_another_process.stdout.strip() == "passed"
    run = await store.runs.get(run_id)
    assert run is not None and run.transcript == PASSED.transcript and run.metrics == PASSED.metrics


async def test_many_concurrent_results_are_all_committed(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    ids = await queue_runs(count=10, trials=50)

    assert all(await asyncio.gather(*(writer.mark_started(run_id, 1, NOW) for run_id in ids)))
    assert all(await asyncio.gather(*(writer.finish(run_id, 1, PASSED, NOW, 1.0) for run_id in ids)))

    assert await store.runs.count(RunStatus.PASSED) == 500


async def test_a_run_is_never_finished_twice(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    [run_id] = await queue_runs(count=1)
    assert await writer.mark_started(run_id, 1, NOW)
    assert await writer.finish(run_id, 1, PASSED, NOW, 1.0)
    before = dict(_row(store.path, run_id))

    failed = RunResult(status=RunStatus.FAILED, error_message="late duplicate")
    assert not await writer.finish(run_id, 1, failed, NOW, 2.0)
    assert not await writer.mark_started(run_id, 2, NOW)
    assert not await writer.set_external_id(run_id, 1, "CA-late")

    assert dict(_row(store.path, run_id)) == before


async def test_guards_need_the_right_status_and_attempt(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    [run_id] = await queue_runs(count=1)
    assert not await writer.finish(run_id, 0, PASSED, NOW, 1.0)  # still queued
    assert not await writer.set_external_id(run_id, 0, "CA1")

    assert await writer.mark_started(run_id, 3, NOW)
    assert not await writer.mark_started(run_id, 3, NOW)  # already running
    assert not await writer.finish(run_id, 2, PASSED, NOW, 1.0)  # a stale attempt
    assert await writer.set_external_id(run_id, 3, "CA1")
    assert await writer.finish(run_id, 3, PASSED, NOW, 1.0)

    row = _row(store.path, run_id)
    assert (row["status"], row["attempt"], row["external_id"]) == ("passed", 3, "CA1")


async def test_finishing_needs_a_final_status(writer: ResultWriter, queue_runs: QueueRuns) -> None:
    [run_id] = await queue_runs(count=1)
    with pytest.raises(ValueError, match="final status"):
        await writer.finish(run_id, 1, RunResult(status=RunStatus.RUNNING), NOW, 1.0)


async def test_cancel_queued_cancels_only_queued_runs(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    ids = await queue_runs(count=4)
    assert await writer.mark_started(ids[0], 1, NOW)

    cancelled = await writer.cancel_queued([ids[3], ids[0], ids[1], 9999])

    assert cancelled == [ids[1], ids[3]]
    assert [r.id for r in await store.runs.page(status="cancelled")] == [ids[3], ids[1]]
    assert _row(store.path, ids[1])["finished_at"] is not None
    assert await writer.cancel_queued([ids[1]]) == []


async def test_requeue_puts_a_running_attempt_back(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    [run_id] = await queue_runs(count=1)
    assert await writer.mark_started(run_id, 1, NOW)

    assert not await writer.requeue(run_id, 2)
    assert await writer.requeue(run_id, 1)

    run = await store.runs.get(run_id)
    assert run is not None and run.status is RunStatus.QUEUED and run.attempt == 1 and run.started_at is None
    assert [r.id for r in await store.runs.queued(limit=5)] == [run_id]


async def test_writes_wait_out_a_locked_store_and_commit_once_it_is_back(
    store: Store, queue_runs: QueueRuns
) -> None:
    ids = await queue_runs(count=3)
    writer = await ResultWriter.start(store.path, tick_ms=1.0, busy_timeout_ms=100)
    changes: list[bool] = []
    writer.on_fault_change(lambda: changes.append(writer.fault is not None))
    locker = sqlite3.connect(store.path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        pending = asyncio.gather(*(writer.mark_started(run_id, 1, NOW) for run_id in ids))
        while writer.fault is None:
            await asyncio.sleep(0.01)
        assert str(store.path) in writer.fault.cause and "waited 0.1 s" in writer.fault.cause
        assert writer.fault.waiting == 3 and not pending.done()
        locker.execute("ROLLBACK")

        assert await pending == [True, True, True]
        assert writer.fault is None and changes == [True, False]
        assert await store.runs.count(RunStatus.RUNNING) == 3
    finally:
        locker.close()
        await writer.close()


async def test_close_gives_up_on_a_store_that_cannot_commit(store: Store, queue_runs: QueueRuns) -> None:
    ids = await queue_runs(count=1)
    writer = await ResultWriter.start(store.path, tick_ms=1.0, busy_timeout_ms=50)
    locker = sqlite3.connect(store.path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        pending = asyncio.ensure_future(writer.mark_started(ids[0], 1, NOW))
        while writer.fault is None:
            await asyncio.sleep(0.01)
        await writer.close()
        with pytest.raises(StoreLockedError):
            await pending
    finally:
        locker.close()


async def test_close_commits_what_is_pending_then_refuses_more(store: Store, queue_runs: QueueRuns) -> None:
    ids = await queue_runs(count=20)
    writer = await ResultWriter.start(store.path, tick_ms=1000.0)  # a tick far longer than the test
    pending = [asyncio.ensure_future(writer.mark_started(run_id, 1, NOW)) for run_id in ids]
    await asyncio.sleep(0)

    await writer.close()

    assert all(await asyncio.gather(*pending))
    assert await store.runs.count(RunStatus.RUNNING) == 20
    with pytest.raises(StoreError, match="closed"):
        await writer.mark_started(ids[0], 1, NOW)
    await writer.close()  # closing twice is harmless


async def test_naive_datetimes_are_refused(writer: ResultWriter, queue_runs: QueueRuns) -> None:
    [run_id] = await queue_runs(count=1)
    with pytest.raises(ValueError, match="naive"):
        await writer.mark_started(run_id, 1, datetime(2025, 1, 1))  # naive on purpose
