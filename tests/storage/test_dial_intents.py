"""Dial intents: committed only for the running attempt, cleared on demand, and found again after a
crash for the runs that went back to the queue without a call SID."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from callboard.core.models.dial_intent import DialIntent
from callboard.storage import ResultWriter, Store, requeue_interrupted

QueueRuns = Callable[..., Awaitable[list[int]]]
NOW = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)
INTENT = DialIntent("+15550100001", "+15550009999", NOW)


async def test_an_intent_without_a_sid_is_found_after_a_crash(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    placing, placed, cleared, stale = await queue_runs(count=4, max_attempts=3)
    for run_id in (placing, placed, cleared):
        assert await writer.mark_started(run_id, 1, NOW)
        assert await writer.set_dial_intent(run_id, 1, INTENT)
    assert await writer.set_external_id(placed, 1, "CA1")
    assert await writer.set_dial_intent(cleared, 1, None)
    # Not running that attempt: nothing is written, so the executor will not dial.
    assert not await writer.set_dial_intent(stale, 1, INTENT)

    assert await requeue_interrupted(store) == (3, 0)
    assert await store.runs.dial_intents() == {placing: INTENT}


async def test_a_newer_intent_replaces_the_older(
    store: Store, writer: ResultWriter, queue_runs: QueueRuns
) -> None:
    [run_id] = await queue_runs(count=1, max_attempts=3)
    assert await writer.mark_started(run_id, 1, NOW)
    assert await writer.set_dial_intent(run_id, 1, INTENT)
    later = DialIntent("+15550100002", "+15550009999", datetime(2025, 6, 7, 9, 0, tzinfo=UTC))
    assert await writer.set_dial_intent(run_id, 1, later)
    await requeue_interrupted(store)
    assert await store.runs.dial_intents() == {run_id: later}
