"""The daemon's scheduler: every enabled schedule has one APScheduler job (AsyncIOScheduler), set for
its next slot. When a slot comes due it is recorded first — the record's key makes it fire at most
once, across restarts — then its batch is queued through the engine."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from callboard.core.engine.control import EngineControl
from callboard.core.engine.selection import SelectionError
from callboard.core.engine.submission import Submitted
from callboard.core.models import BatchStatus
from callboard.core.models.schedules import FireOutcome, Schedule
from callboard.core.scheduling.cron import cron_trigger
from callboard.core.scheduling.slots import plan_slots
from callboard.storage.interface import StoreBackend

log = logging.getLogger(__name__)


def trigger_for(schedule: Schedule) -> BaseTrigger:
    """The schedule's fire times (raises CronError for a bad cron expression)."""
    zone = ZoneInfo(schedule.timezone)
    if schedule.cron is not None:
        return cron_trigger(schedule.cron, zone)
    assert schedule.interval_s is not None
    # Interval slots count from the schedule's creation, so they stay put across restarts.
    return IntervalTrigger(seconds=schedule.interval_s, start_date=schedule.created_at, timezone=zone)


class ScheduleService:
    """Arms, fires and disarms the schedules of one daemon."""

    def __init__(self, store: StoreBackend, engine: EngineControl, default_grace_s: float) -> None:
        self._store = store
        self._engine = engine
        self._default_grace_s = default_grace_s
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    async def start(self) -> None:
        """Start the scheduler and arm every schedule (catching up or recording what was missed)."""
        self._scheduler.start()
        for schedule in await self._store.schedules.list():
            await self.arm(schedule)

    def shutdown(self) -> None:
        """Stop firing (queued batches go on)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def arm(self, schedule: Schedule) -> None:
        """Record the slots missed since the schedule last fired, fire the newest one if it is within
        the misfire grace, and set the job for the next slot (none when the schedule is paused)."""
        self.disarm(schedule.id)
        if not schedule.enabled:
            await self._store.schedules.set_next(schedule.id, None)
            return
        grace = self._default_grace_s if schedule.misfire_grace_s is None else schedule.misfire_grace_s
        after = schedule.last_fire_at or schedule.created_at
        plan = plan_slots(trigger_for(schedule), after, datetime.now(UTC), grace)
        for slot in plan.missed:
            await self._store.schedules.record(schedule.id, slot, "missed")
        if plan.missed:
            log.warning(
                "schedule %r: %d slot(s) missed while the daemon was down", schedule.name, len(plan.missed)
            )
        if plan.catch_up is not None:
            log.info("schedule %r: catching up the slot of %s", schedule.name, plan.catch_up.isoformat())
            await self.fire(schedule, plan.catch_up)
        if plan.next_slot is not None:
            self._scheduler.add_job(
                self._due,
                DateTrigger(plan.next_slot),
                args=[schedule.id, plan.next_slot],
                id=_job_id(schedule.id),
                replace_existing=True,
                misfire_grace_time=None,
            )
        await self._store.schedules.set_next(schedule.id, plan.next_slot)

    def every(self, hours: float, work: Callable[[], Awaitable[object]], job_id: str) -> None:
        """Run ``work`` every ``hours`` (daemon housekeeping, such as retention)."""
        self._scheduler.add_job(work, IntervalTrigger(hours=hours), id=job_id, replace_existing=True)

    def disarm(self, schedule_id: int) -> None:
        """Remove the schedule's job, if it has one."""
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(_job_id(schedule_id))

    async def fire(
        self, schedule: Schedule, slot: datetime, outcome: FireOutcome = "fired"
    ) -> Submitted | None:
        """Queue the schedule's batch for ``slot``, unless that slot was already recorded, or (with
        overlap = skip, and not for a manual run) the schedule's previous batch is still running."""
        if outcome != "manual" and schedule.overlap == "skip" and await self._previous_running(schedule.id):
            if await self._store.schedules.record(schedule.id, slot, "skipped_overlap"):
                log.info("schedule %r: previous batch still running; slot skipped", schedule.name)
            return None
        if not await self._store.schedules.record(schedule.id, slot, outcome):
            return None
        try:
            submitted = await self._engine.submit(
                schedule.selection(),
                schedule.batch_options(),
                label=f"schedule {schedule.name}",
                source="schedule",
                schedule_id=schedule.id,
            )
        except SelectionError as exc:
            log.warning("schedule %r: nothing queued: %s", schedule.name, exc)
            return None
        await self._store.schedules.set_batch(schedule.id, slot, submitted.batch.id)
        return submitted

    async def _due(self, schedule_id: int, slot: datetime) -> None:
        schedule = await self._store.schedules.get(schedule_id)
        if schedule is None or not schedule.enabled:
            return
        await self.fire(schedule, slot)
        refreshed = await self._store.schedules.get(schedule_id)
        if refreshed is not None:
            await self.arm(refreshed)

    async def _previous_running(self, schedule_id: int) -> bool:
        batch_id = await self._store.schedules.last_batch_id(schedule_id)
        if batch_id is None:
            return False
        batch = await self._store.batches.get(batch_id)
        return batch is not None and batch.status == BatchStatus.RUNNING


def _job_id(schedule_id: int) -> str:
    return f"schedule-{schedule_id}"
