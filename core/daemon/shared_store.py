"""The daemon on a shared PostgreSQL store: the cluster engine, the daemon's own worker, and the work that
must happen once however many daemons run on the database.

Each daemon serves its API through a ``ClusterEngine``; unless ``daemon.worker`` is false (``callboard
daemon --no-worker``) it also runs a worker, as ``callboard worker`` does. The scheduler (with retention)
and batch notifications run in one daemon at a time: the one holding the role's advisory lock
(``storage.postgres.singleton``); another takes over within seconds when it goes. So does pruning the
events outbox (kept ``EVENTS_KEPT_S``). Batch finishing is a role the workers share with the daemons,
so a batch finishes even when no worker runs (all cancelled).
A schedule slot fires once whoever holds the role (``schedule_fires``' key), and the holder picks up
schedules that other daemons created or changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from psycopg import Error

from callboard.core.cluster.engine import ClusterEngine
from callboard.core.cluster.events import OutboxEvents
from callboard.core.config import Settings
from callboard.core.daemon.notifications import notify_finished_batches
from callboard.core.engine.stack import engine_config, executors_for
from callboard.core.models.schedules import Schedule
from callboard.core.notify.notifier import Notifier
from callboard.core.scheduling.service import ScheduleService
from callboard.core.services.housekeeping import schedule_retention
from callboard.core.worker.main import run_worker, worker_options
from callboard.storage.errors import StoreError
from callboard.storage.interface import StoreBackend
from callboard.storage.postgres import outbox
from callboard.storage.postgres.connection import describe, open_pool
from callboard.storage.postgres.finishing import finish_done_batches
from callboard.storage.postgres.singleton import Singleton

log = logging.getLogger(__name__)

_POOL_SIZE = 4
_WORKER_RETRY_S = 5.0
_SCHEDULES_SYNC_S = 2.0
_FINISH_POLL_S = 0.5
# Events are kept this long for clients resuming their stream (older ones get an events.reset).
EVENTS_KEPT_S = 24 * 3600.0
_EVENTS_PRUNE_EVERY_S = 3600.0


@asynccontextmanager
async def running_cluster(settings: Settings, store: StoreBackend, url: str) -> AsyncIterator[ClusterEngine]:
    """The cluster engine on the database at ``url`` (and the daemon's worker unless ``daemon.worker``
    is false), stopped on exit: the worker lets its runs finish within the grace period, then gives the
    rest back to the queue."""
    config = engine_config(settings)
    kinds = set(executors_for(settings, config))  # listing the kinds builds no executor
    pool = await open_pool(url, max_size=_POOL_SIZE)
    try:
        events = OutboxEvents(url, pool, progress_interval_s=config.progress_interval_s)
        await events.start()
        engine = ClusterEngine(store, pool, describe(url), events, config, kinds)
        try:
            await engine.start()
            stop = asyncio.Event()
            working = asyncio.create_task(_work(settings, url, stop)) if settings.daemon.worker else None
            try:
                yield engine
            finally:
                stop.set()
                if working is not None:
                    await working
        finally:
            await engine.close()
            await events.close()
    finally:
        await pool.close()


async def _work(settings: Settings, url: str, stop: asyncio.Event) -> None:
    """Run the daemon's worker until ``stop``; a database it cannot reach is tried again, never fatal."""
    while not stop.is_set():
        try:
            owner = await run_worker(settings, url, worker_options(settings), stop)
            log.info("worker %s stopped", owner)
        except (StoreError, Error) as exc:
            log.warning("the daemon's worker cannot work (%s); trying again in %g s", exc, _WORKER_RETRY_S)
        except Exception:  # the API goes on serving whatever befell the worker
            log.exception("the daemon's worker failed; starting it again in %g s", _WORKER_RETRY_S)
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _WORKER_RETRY_S)


@asynccontextmanager
async def shared_roles(
    settings: Settings,
    url: str,
    store: StoreBackend,
    engine: ClusterEngine,
    schedules: ScheduleService,
    notifier: Notifier,
) -> AsyncIterator[None]:
    """Compete for the once-only roles while the block runs (see the module docstring)."""

    async def scheduler() -> None:
        known = {schedule.id: _spec(schedule) for schedule in await store.schedules.list()}
        await schedules.start()
        schedule_retention(schedules, store, settings.retention)
        try:
            while True:
                await asyncio.sleep(_SCHEDULES_SYNC_S)
                known = await _sync_schedules(store, schedules, known)
        finally:
            schedules.shutdown()

    async def finishing() -> None:
        while True:
            await _logged("batch finishing", lambda: _finish(engine))
            await asyncio.sleep(_FINISH_POLL_S)

    async def events_pruning() -> None:
        while True:
            await _logged("pruning events", lambda: _prune_events(engine))
            await asyncio.sleep(_EVENTS_PRUNE_EVERY_S)

    roles: dict[str, Callable[[], Awaitable[None]]] = {
        "scheduler": scheduler,
        "batch-finishing": finishing,
        "events-pruning": events_pruning,
    }
    if notifier.has_channels:  # without a channel there is nothing to notify: no role to hold
        roles["notifications"] = lambda: notify_finished_batches(engine.events, store, notifier)
    tasks = [
        asyncio.create_task(_hold(Singleton(url, role), work), name=f"callboard-role-{role}")
        for role, work in roles.items()
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _hold(singleton: Singleton, work: Callable[[], Awaitable[None]]) -> None:
    """Hold the role whenever it is free, for ever: a failure of its work is logged and the role is
    taken up again, so no store fault ends it."""
    while True:
        try:
            await singleton.run(work)
        except (StoreError, Error) as exc:
            log.warning("role %s: %s; taking it up again shortly", singleton.role, exc)
        except Exception:
            log.exception("role %s failed; taking it up again shortly", singleton.role)
        await asyncio.sleep(singleton.poll_s)


async def _finish(engine: ClusterEngine) -> None:
    async with engine.pool.connection() as conn:
        await finish_done_batches(conn)


async def _prune_events(engine: ClusterEngine) -> None:
    async with engine.pool.connection() as conn:
        pruned = await outbox.prune(conn, EVENTS_KEPT_S)
    if pruned:
        log.info("pruned %d events older than %g hours", pruned, EVENTS_KEPT_S / 3600)


async def _logged(what: str, step: Callable[[], Awaitable[Any]]) -> None:
    try:
        await step()
    except (StoreError, Error) as exc:
        log.warning("%s: %s", what, exc)


def _spec(schedule: Schedule) -> dict[str, Any]:
    """What arming a schedule depends on (not where it stands: its last and next fire)."""
    return schedule.model_dump(exclude={"last_fire_at", "next_fire_at"})


async def _sync_schedules(
    store: StoreBackend, schedules: ScheduleService, known: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Arm the schedules created or changed since ``known`` (through any daemon), disarm deleted ones;
    returns what is known now."""
    try:
        current = {schedule.id: schedule for schedule in await store.schedules.list()}
    except (StoreError, Error) as exc:
        log.warning("reading the schedules: %s", exc)
        return known
    for schedule_id in known.keys() - current.keys():
        schedules.disarm(schedule_id)
    for schedule_id, schedule in current.items():
        if known.get(schedule_id) != _spec(schedule):
            await schedules.arm(schedule)
    return {schedule_id: _spec(schedule) for schedule_id, schedule in current.items()}
