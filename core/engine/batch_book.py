"""The engine's book of running batches: counts as runs end, progress and finish events, and
waiters for a batch to be done. Events go out only after the store has the state they report."""

from __future__ import annotations

import asyncio
import time
from typing import TypedDict

from callboard.core.engine.events import EventBus
from callboard.core.engine.progress import BatchTracker
from callboard.core.models import Batch, BatchCounts, BatchStatus, RunResult
from callboard.core.models.events import BatchFinished, BatchProgress, RunFinished, RunStarted
from callboard.storage.interface import ResultWriting, StoreBackend

# While runs go on, a batch's progress (with a fresh ETA) goes out at least this often, even when no
# run ends: a follower's ETA must not freeze while a long run is still going.
HEARTBEAT_S = 2.0


class _CountFields(TypedDict):
    total: int
    passed: int
    failed: int
    error: int
    pass_rate: float | None


def _count_fields(counts: BatchCounts) -> _CountFields:
    return {
        "total": counts.total,
        "passed": counts.passed,
        "failed": counts.failed,
        "error": counts.error,
        "pass_rate": counts.pass_rate,
    }


class BatchBook:
    """Tracks every batch with runs still to end."""

    def __init__(
        self,
        store: StoreBackend,
        writer: ResultWriting,
        events: EventBus,
        progress_interval_s: float,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self._store = store
        self._writer = writer  # the batch's end is written like results: kept and retried in a store fault
        self._events = events
        self._interval = progress_interval_s
        self._heartbeat_s = heartbeat_s
        self._trackers: dict[int, BatchTracker] = {}
        self._done: dict[int, asyncio.Event] = {}
        self._beats: dict[int, asyncio.TimerHandle] = {}

    def track(self, batch: Batch) -> BatchTracker:
        """Start tracking a batch from its stored counts."""
        tracker = BatchTracker(batch.id, batch.counts.model_copy())
        self._trackers[batch.id] = tracker
        self._done.setdefault(batch.id, asyncio.Event())
        return tracker

    def tracked(self) -> list[int]:
        """Ids of the batches being tracked."""
        return list(self._trackers)

    async def finish_if_done(self, batch_id: int) -> None:
        """Close the batch when every run in it is final (e.g. a batch of skipped tests)."""
        tracker = self._trackers.get(batch_id)
        if tracker is not None and tracker.finished:
            await self._finish(batch_id)

    def run_started(
        self,
        run_id: int,
        batch_id: int,
        test_name: str,
        attempt: int,
        kind: str = "",
        timeout_s: float | None = None,
    ) -> None:
        """A run's start is committed (its kind and timeout feed the batch's ETA)."""
        tracker = self._trackers.get(batch_id)
        if tracker is not None:
            tracker.start(run_id, kind, timeout_s)
            self._beat_later(batch_id)
        self._events.publish(
            RunStarted(run_id=run_id, batch_id=batch_id, test_name=test_name, attempt=attempt)
        )

    async def run_ended(
        self,
        run_id: int,
        batch_id: int,
        test_name: str,
        result: RunResult,
        duration_ms: float | None,
        *,
        was_running: bool,
    ) -> None:
        """A run's final state is committed: announce it, count it, and close the batch if done."""
        self._events.publish(
            RunFinished(
                run_id=run_id,
                batch_id=batch_id,
                test_name=test_name,
                status=result.status,
                score=result.score,
                duration_ms=duration_ms,
                error_kind=result.error_kind,
            )
        )
        tracker = self._trackers.get(batch_id)
        if tracker is None:
            return
        tracker.record(result.status, was_running=was_running, run_id=run_id, duration_ms=duration_ms)
        metrics = result.metrics
        tracker.llm_tokens += int(
            metrics.get("llm_prompt_tokens", 0) + metrics.get("llm_completion_tokens", 0)
        )
        now = time.monotonic()
        if tracker.finished:
            await self._finish(batch_id)
        elif now - tracker.last_event >= self._interval:
            tracker.last_event = now
            self._events.publish(_progress(tracker, now))

    async def wait(self, batch_id: int) -> None:
        """Return once every run of the batch is final."""
        event = self._done.setdefault(batch_id, asyncio.Event())
        if batch_id not in self._trackers and not event.is_set():
            batch = await self._store.batches.get(batch_id)
            if batch is None or batch.status != BatchStatus.RUNNING:
                return
        await event.wait()

    def rate_and_remaining(self) -> tuple[float, int]:
        """Runs finished per second across batches, and runs still to end."""
        now = time.monotonic()
        rate = sum(tracker.rate_per_s(now) for tracker in self._trackers.values())
        remaining = sum(t.counts.total - t.counts.done for t in self._trackers.values())
        return rate, remaining

    def _beat_later(self, batch_id: int) -> None:
        if batch_id in self._beats:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): no heartbeat
            return
        self._beats[batch_id] = loop.call_later(self._heartbeat_s, self._beat, batch_id)

    def _beat(self, batch_id: int) -> None:
        self._beats.pop(batch_id, None)
        tracker = self._trackers.get(batch_id)
        if tracker is None or tracker.counts.running <= 0:
            return
        now = time.monotonic()
        if now - tracker.last_event >= self._heartbeat_s:
            tracker.last_event = now
            self._events.publish(_progress(tracker, now))
        self._beat_later(batch_id)

    def etas(self) -> dict[int, float | None]:
        """Each tracked batch's ETA in seconds (None: nothing tells yet), rounded as events give it."""
        now = time.monotonic()
        return {batch_id: _rounded(tracker.eta_s(now)) for batch_id, tracker in self._trackers.items()}

    async def _finish(self, batch_id: int) -> None:
        tracker = self._trackers.pop(batch_id)
        beat = self._beats.pop(batch_id, None)
        if beat is not None:
            beat.cancel()
        counts = tracker.counts
        everything_cancelled = counts.cancelled and counts.cancelled == counts.total
        status = BatchStatus.CANCELLED if everything_cancelled else BatchStatus.FINISHED
        await self._writer.finish_batch(batch_id, status.value)
        self._events.publish(_progress(tracker, time.monotonic()))
        self._events.publish(
            BatchFinished(
                batch_id=batch_id,
                status=status.value,
                cancelled=counts.cancelled,
                skipped=counts.skipped,
                duration_s=round(time.monotonic() - tracker.started, 3),
                **_count_fields(counts),
            )
        )
        self._done.setdefault(batch_id, asyncio.Event()).set()


def _rounded(eta: float | None) -> float | None:
    return None if eta is None else round(eta, 1)


def _progress(tracker: BatchTracker, now: float) -> BatchProgress:
    return BatchProgress(
        batch_id=tracker.batch_id,
        done=tracker.counts.done,
        rate_per_s=round(tracker.rate_per_s(now), 2),
        eta_s=_rounded(tracker.eta_s(now)),
        llm_tokens=tracker.llm_tokens,
        **_count_fields(tracker.counts),
    )
