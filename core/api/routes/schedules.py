"""``/v1/schedules``: cron and interval schedules — list (with next fire time and last batch), create,
read, delete, pause, resume, run now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from callboard.core.api.deps import Daemon, PathId
from callboard.core.api.errors import ApiError, not_found
from callboard.core.engine.selection import SelectionError, choose, unmatched
from callboard.core.models.api import BatchCreated, ErrorResponse
from callboard.core.models.schedules import Schedule, ScheduleList, ScheduleSpec, ScheduleView
from callboard.core.scheduling.cron import CronError
from callboard.core.scheduling.service import trigger_for
from callboard.storage.errors import NameTakenError

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 409, 413, 422)
}
_RECENT_FIRES = 10


async def _view(daemon: Daemon, schedule: Schedule) -> ScheduleView:
    batch_id = await daemon.store.schedules.last_batch_id(schedule.id)
    last = None if batch_id is None else await daemon.store.batches.get(batch_id)
    fires = await daemon.store.schedules.fires(schedule.id, _RECENT_FIRES)
    return ScheduleView(schedule=schedule, last_batch=last, recent_fires=fires)


async def _schedule(daemon: Daemon, schedule_id: int) -> Schedule:
    schedule = await daemon.store.schedules.get(schedule_id)
    if schedule is None:
        raise not_found("schedule", schedule_id)
    return schedule


@router.get("", response_model=ScheduleList, responses=_ERRORS)
async def list_schedules(daemon: Daemon) -> ScheduleList:
    """Every schedule with its next fire time, its last batch (and pass rate) and recent slots."""
    return ScheduleList(schedules=[await _view(daemon, s) for s in await daemon.store.schedules.list()])


@router.post("", status_code=201, response_model=ScheduleView, responses=_ERRORS)
async def create_schedule(daemon: Daemon, spec: ScheduleSpec) -> ScheduleView:
    """Add a schedule; it is armed at once."""
    if spec.cron is not None:
        try:
            trigger_for(Schedule(id=0, created_at=datetime.now(UTC), **spec.model_dump()))
        except CronError as exc:
            raise ApiError(422, "invalid_request", f"POST /v1/schedules: cron: {exc}") from None
    missing = unmatched(await daemon.store.tests.list(), spec.selection())
    if missing:
        # The request is well formed; what it names is not there (as for an unknown test id).
        raise ApiError(404, "not_found", f"schedule {spec.name!r}: no test matches {', '.join(missing)}")
    try:
        schedule = await daemon.store.schedules.create(spec)
    except NameTakenError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    await daemon.schedules.arm(schedule)
    return await _view(daemon, await _schedule(daemon, schedule.id))


@router.get("/{schedule_id}", response_model=ScheduleView, responses=_ERRORS)
async def get_schedule(daemon: Daemon, schedule_id: PathId) -> ScheduleView:
    """One schedule with its next fire time, last batch and recent slots."""
    return await _view(daemon, await _schedule(daemon, schedule_id))


@router.delete("/{schedule_id}", status_code=204, responses=_ERRORS)
async def delete_schedule(daemon: Daemon, schedule_id: PathId) -> Response:
    """Remove the schedule (its batches stay)."""
    daemon.schedules.disarm(schedule_id)
    if not await daemon.store.schedules.delete(schedule_id):
        raise not_found("schedule", schedule_id)
    return Response(status_code=204)


async def _set_enabled(daemon: Daemon, schedule_id: int, *, enabled: bool) -> ScheduleView:
    if not await daemon.store.schedules.set_enabled(schedule_id, enabled=enabled):
        raise not_found("schedule", schedule_id)
    schedule = await _schedule(daemon, schedule_id)
    await daemon.schedules.arm(schedule)
    return await _view(daemon, await _schedule(daemon, schedule_id))


@router.post("/{schedule_id}/pause", response_model=ScheduleView, responses=_ERRORS)
async def pause_schedule(daemon: Daemon, schedule_id: PathId) -> ScheduleView:
    """Stop firing the schedule until it is resumed."""
    return await _set_enabled(daemon, schedule_id, enabled=False)


@router.post("/{schedule_id}/resume", response_model=ScheduleView, responses=_ERRORS)
async def resume_schedule(daemon: Daemon, schedule_id: PathId) -> ScheduleView:
    """Fire the schedule again (slots missed while paused are recorded, not run)."""
    return await _set_enabled(daemon, schedule_id, enabled=True)


async def _refuse_an_empty_selection(daemon: Daemon, schedule: Schedule) -> None:
    """A 409 naming what matches nothing when the schedule would queue an empty batch."""
    tests = await daemon.store.tests.list()
    selection = schedule.selection()
    try:
        chosen = choose(tests, selection)
    except SelectionError:
        chosen = []
    if not chosen:
        missing = unmatched(tests, selection)
        why = f"no test matches {', '.join(missing)}" if missing else "no test is stored"
        raise ApiError(409, "nothing_to_run", f"schedule {schedule.name!r} selects no test: {why}")


@router.post("/{schedule_id}/run", status_code=202, response_model=BatchCreated, responses=_ERRORS)
async def run_schedule_now(daemon: Daemon, schedule_id: PathId) -> BatchCreated:
    """Queue the schedule's batch now, whatever its timing (it does not move the next slot)."""
    schedule = await _schedule(daemon, schedule_id)
    await _refuse_an_empty_selection(daemon, schedule)
    submitted = await daemon.schedules.fire(schedule, datetime.now(UTC), "manual")
    if submitted is None:
        raise ApiError(409, "nothing_to_run", f"schedule {schedule.name!r}: its tests no longer exist")
    skipped = [{"test": name, "reason": reason} for name, reason in sorted(submitted.skipped.items())]
    return BatchCreated.model_validate({"batch": submitted.batch, "skipped": skipped})
