"""The worker loop: label, claim, execute, heartbeat, reap, listen — on a shared PostgreSQL store.

Per-kind and per-target concurrency ([engine.kinds], [engine.targets], the Twilio account's cap) hold
across all workers: they are counted in the database. ``concurrency`` is this worker's own share. Rates
(the Twilio CPS first) are GCRA slots in the database, so starts are evenly spaced across workers.
Any worker reaps expired leases (it is idempotent); batch finishing runs in the one worker that holds
its role.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from psycopg import AsyncConnection, Error
from psycopg_pool import AsyncConnectionPool

from callboard.core.engine.attempt import error_result
from callboard.core.engine.engine import EngineConfig
from callboard.core.engine.limits import LimitSpec
from callboard.core.engine.selection import limit_keys
from callboard.core.execution.base import Executor
from callboard.core.models.definitions import TestDefinition, parse_test
from callboard.core.worker.execution import Stop, execute, settle_stop
from callboard.core.worker.finisher import Finisher
from callboard.storage.postgres import leases, notices, queue, rates
from callboard.storage.postgres.finishing import finish_done_batches
from callboard.storage.postgres.reaper import Reaped, reap
from callboard.storage.postgres.singleton import Singleton

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    """This worker's share and timings (seconds)."""

    concurrency: int = 16
    lease_s: float = 30.0
    poll_s: float = 0.5
    reap_s: float = 5.0
    shutdown_grace_s: float = 10.0


@lru_cache(maxsize=4096)
def _test_of(version_id: int, definition: str) -> TestDefinition:
    """A stored test version, parsed once (versions never change)."""
    del version_id  # part of the cache key only
    return parse_test(json.loads(definition))


def keys_of(version_id: int, definition: str) -> tuple[str, ...]:
    """The limit keys of a run of this test version: callboard's own rules (``selection.limit_keys``)."""
    return limit_keys(_test_of(version_id, definition))


class Worker:
    """Claims runs for ``owner`` and executes them until ``stop`` is set."""

    def __init__(
        self,
        url: str,
        pool: AsyncConnectionPool[AsyncConnection],
        owner: str,
        executors: Mapping[str, Executor],
        config: EngineConfig,
        options: WorkerOptions,
    ) -> None:
        self.url = url
        self.pool = pool
        self.owner = owner
        self.executors = executors
        self.config = config
        self.options = options
        specs = {f"kind:{kind}": spec for kind, spec in config.kind_limits.items()} | config.target_limits
        self.limits = queue.Limits(
            per_key={key: spec.concurrency for key, spec in specs.items() if spec.concurrency is not None}
        )
        self.rates: dict[str, LimitSpec] = {key: spec for key, spec in specs.items() if spec.rate_per_s}
        self.paused = False
        self._active: dict[int, asyncio.Task[None]] = {}
        self._stops: dict[int, Stop] = {}
        self._wake = asyncio.Event()
        self.finisher = Finisher(pool)

    async def run(self, stop: asyncio.Event, host: str, pid: int) -> None:
        """Work until ``stop`` is set, then give back what is still running after the grace period."""
        async with self.pool.connection() as conn:
            await queue.register(conn, self.owner, host, pid)
            await reap(conn)  # start-up recovery: expired leases only, never a live worker's runs
        self.finisher.start()
        helpers = [
            asyncio.create_task(self._every(self.options.lease_s / 3, self._heartbeat)),
            asyncio.create_task(self._every(self.options.reap_s, self._reap)),
            asyncio.create_task(self._listen()),
            asyncio.create_task(Singleton(self.url, "batch-finishing").run(self._finish_batches)),
        ]
        try:
            await self._claim_until(stop)
        finally:
            await self._give_back()
            await self.finisher.close()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _claim_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            free = self.options.concurrency - len(self._active)
            if free > 0 and not self.paused:
                try:
                    async with self.pool.connection() as conn:
                        await queue.label(conn, keys_of)
                        claims = await queue.claim(conn, self.owner, free, self.limits, self.options.lease_s)
                except Error as exc:
                    log.warning("claiming failed (%s); trying again", exc)
                    claims = []
                for claim in claims:
                    self._start(claim)
                if len(claims) == free:
                    continue  # the queue may hold more: claim again at once
            self._wake.clear()
            # A finished run, a notice or a reap wakes the loop; ``stop`` is seen within poll_s.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.poll_s)

    def _start(self, claim: queue.Claim) -> None:
        task = asyncio.create_task(self._run(claim), name=f"run-{claim.run_id}")
        self._active[claim.run_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._active.pop(claim.run_id, None)
            self._stops.pop(claim.run_id, None)
            self._wake.set()

        task.add_done_callback(done)

    async def _run(self, claim: queue.Claim) -> None:
        try:
            test = await self._prepare(claim)
        except asyncio.CancelledError:
            # Stopped before its executor started (a cancel right after the claim): settled here, or
            # the run would stay 'running' under a lease this worker keeps renewing.
            await settle_stop(self.pool, claim.lease(), self._stops.get(claim.run_id), None)
            raise
        if test is None:
            return
        executor = self.executors.get(test.kind)
        await execute(
            self.pool,
            self.finisher,
            claim,
            test,
            executor,
            self.config,
            lambda: self._stops.get(claim.run_id),
        )

    async def _prepare(self, claim: queue.Claim) -> TestDefinition | None:
        """The claimed run's test, after the rate slots of its keys; None (and the run finished as an
        error) when its version is gone."""
        waits = [0.0]
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT definition FROM test_versions WHERE id = %s", (claim.version_id,)
            )
            row = await cursor.fetchone()
            for key in claim.limit_keys:
                spec = self.rates.get(key)
                if spec is not None and spec.rate_per_s is not None:
                    burst = spec.burst or max(1.0, spec.rate_per_s)  # as the in-process limiter
                    waits.append(await rates.reserve(conn, f"{key}:rate", spec.rate_per_s, burst))
        await asyncio.sleep(max(waits))  # the latest slot of its keys, with no connection held
        if row is None:  # its version was deleted under it: nothing to run, say so
            missing = error_result("missing-test", f"test version {claim.version_id} is not in the store")
            async with self.pool.connection() as conn:
                await leases.finish(conn, claim.lease(), missing, None)
            return None
        return _test_of(int(claim.version_id or 0), str(row[0]))

    def _stop(self, run_id: int, reason: Stop) -> None:
        task = self._active.get(run_id)
        if task is not None and run_id not in self._stops:
            self._stops[run_id] = reason
            task.cancel()

    async def _heartbeat(self) -> None:
        # Only the runs started before the heartbeat read the leases can be judged by its answer: a run
        # claimed while it was in flight is missing from ``held`` without being lost (stopping it would
        # leave it 'running' under a lease this worker keeps renewing, and its batch would never end).
        running = list(self._active)
        async with self.pool.connection() as conn:
            beat = await queue.heartbeat(conn, self.owner, self.options.lease_s)
        self.paused = beat.paused
        for run_id in running:
            if run_id in beat.cancel:
                self._stop(run_id, Stop.CANCELLED)
            elif run_id not in beat.held:
                self._stop(run_id, Stop.LOST)

    async def _reap(self) -> None:
        async with self.pool.connection() as conn:
            reaped = await reap(conn)
        if reaped != Reaped():
            log.info("reaped expired leases: %s", reaped)
            self._wake.set()

    async def _finish_batches(self) -> None:
        while True:
            async with self.pool.connection() as conn:
                await finish_done_batches(conn)
            await asyncio.sleep(self.options.poll_s)

    async def _listen(self) -> None:
        """Control notices (cancel, pause) on a connection of its own; the heartbeat covers the gaps."""
        while True:
            try:
                async with await AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await notices.listen(conn)
                    async for notify in conn.notifies():
                        self._on_notice(notices.Notice.parse(notify.payload))
            except Error as exc:
                log.warning("control notices: %s; listening again shortly", exc)
                await asyncio.sleep(self.options.poll_s)

    def _on_notice(self, notice: notices.Notice) -> None:
        if not notice.concerns(self.owner):
            return
        if notice.action == "cancel" and notice.run_id is not None:
            self._stop(notice.run_id, Stop.CANCELLED)
        elif notice.action in ("pause", "resume"):
            self.paused = notice.action == "pause"
            self._wake.set()

    async def _every(self, period_s: float, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await step()
            except Error as exc:
                log.warning("%s failed: %s", getattr(step, "__name__", "step"), exc)

    async def _give_back(self) -> None:
        """Let running runs finish within the grace period; requeue the others (fenced)."""
        if self._active:
            await asyncio.wait(list(self._active.values()), timeout=self.options.shutdown_grace_s)
        for run_id in list(self._active):
            self._stop(run_id, Stop.SHUTDOWN)
        if self._active:
            await asyncio.gather(*self._active.values(), return_exceptions=True)
