"""Tell people when a batch finishes: the daemon follows its own event stream and hands a summary of
each finished batch to the notifier (which sends in the background and never affects the batch)."""

from __future__ import annotations

import asyncio
import logging

from callboard.core.engine.control import EventFeed
from callboard.core.models import RunStatus
from callboard.core.models.events import BatchFinished, EventBase
from callboard.core.notify.notifier import Notifier
from callboard.core.notify.summary import BatchSummary, FailingTest
from callboard.core.reports.tabular import first_failure
from callboard.storage.interface import StoreBackend

log = logging.getLogger(__name__)
_FAILING_LISTED = 100


async def summarise(store: StoreBackend, event: BatchFinished) -> BatchSummary | None:
    """The summary of a finished batch, with its failing tests and the previous pass rate of its schedule."""
    batch = await store.batches.get(event.batch_id)
    if batch is None:
        return None
    failed = await store.runs.page(
        status=[RunStatus.FAILED, RunStatus.ERROR], batch_id=batch.id, limit=_FAILING_LISTED
    )
    failing = tuple(FailingTest(run.test_name, first_failure(run).reason()) for run in reversed(failed))
    previous_rate = None
    schedule_name = None
    if batch.schedule_id is not None:
        schedule = await store.schedules.get(batch.schedule_id)
        schedule_name = schedule.name if schedule else None
        earlier = [
            b
            for b in await store.batches.list(limit=20, before_id=batch.id)
            if b.schedule_id == batch.schedule_id
        ]
        previous_rate = earlier[0].counts.pass_rate if earlier else None
    counts = batch.counts
    return BatchSummary(
        batch_id=batch.id,
        label=batch.label,
        source=batch.source,
        status=batch.status.value,
        total=counts.total,
        passed=counts.passed,
        failed=counts.failed,
        error=counts.error,
        cancelled=counts.cancelled,
        skipped=counts.skipped,
        pass_rate=counts.pass_rate,
        previous_pass_rate=previous_rate,
        schedule_id=batch.schedule_id,
        schedule_name=schedule_name,
        duration_s=event.duration_s,
        finished_at=batch.finished_at,
        failing=failing,
        report_hint=f"callboard report {batch.id}",
    )


async def notify_finished_batches(events: EventFeed, store: StoreBackend, notifier: Notifier) -> None:
    """Follow the events for ever (until cancelled), notifying each finished batch; with no channel
    configured, return at once (a subscriber costs the engine work on every event)."""
    if not notifier.has_channels:
        return
    while True:
        # Only batch ends are wanted: the others are not queued to this subscriber (two a run).
        async for event in events.subscribe(wants=_is_batch_end):
            if isinstance(event, BatchFinished):
                try:
                    summary = await summarise(store, event)
                    if summary is not None:
                        await notifier.batch_finished(summary)
                except Exception:  # a notification must never take the daemon down
                    log.exception("batch %s: could not prepare its notification", event.batch_id)
        # Cut off for falling behind: subscribe again from now.
        await asyncio.sleep(0)


def _is_batch_end(event: EventBase) -> bool:
    return isinstance(event, BatchFinished)
