"""After a crash: runs left running go back to the queue, or end as 'interrupted' errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from callboard.core.models import RunStatus
from callboard.storage import ResultWriter, Store, requeue_interrupted

QueueRuns = Callable[..., Awaitable[list[int]]]
NOW = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)


async def test_interrupted_runs_are_requeued_while_attempts_remain(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    ids = await queue_runs(count=4, max_attempts=2)
    # Attempts are counted when they start (1 for the first execution).
    assert await writer.mark_started(ids[0], 1, NOW)  # first attempt: one left
    assert await writer.set_external_id(ids[0], 1, "CA-first")
    assert await writer.mark_started(ids[1], 2, NOW)  # attempts used up
    assert await writer.mark_started(ids[2], 1, NOW)
    # ids[3] stays queued and is not touched.

    assert await requeue_interrupted(store) == (2, 1)

    again, used_up, second, untouched = [await store.runs.get(run_id) for run_id in ids]
    assert again is not None and used_up is not None and second is not None and untouched is not None
    assert (again.status, again.attempt, again.external_id) == (RunStatus.QUEUED, 1, "CA-first")
    assert (second.status, second.attempt) == (RunStatus.QUEUED, 1)
    assert used_up.status is RunStatus.ERROR
    assert (used_up.error_kind, used_up.error_message) == ("interrupted", "interrupted")
    assert used_up.finished_at is not None
    assert (untouched.status, untouched.attempt) == (RunStatus.QUEUED, 0)
    assert await requeue_interrupted(store) == (0, 0)
