"""The worker loop: label, claim, execute, heartbeat, reap, listen — on a shared PostgreSQL store.

Per-kind and per-target concurrency ([engine.kinds], [engine.targets], the Twilio account's
``max_concurrent_calls`` as the ``twilio`` key) hold across all workers: they are counted from running
rows in the database. ``concurrency`` is this worker's own share. Rates (the Twilio CPS first) are GCRA
slots in the database, so starts are evenly spaced across workers. Per-batch budgets (calls, call
minutes, model tokens) are rows of the database too (``core.worker.budgets``).
Any worker reaps expired leases (it is idempotent); batch finishing runs in the one worker that holds
its role.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from functools import lru_cache

from psycopg import AsyncConnection, Error
from psycopg_pool import AsyncConnectionPool

from callboard.core.engine.attempt import error_result
from callboard.core.engine.engine import EngineConfig
from callboard.core.engine.limits import LimitSpec
from callboard.core.engine.selection import limit_keys
from callboard.core.execution.base import Executor
from callboard.core.executors.registry import prepare
from callboard.core.models.definitions import TestDefinition, parse_test
from callboard.core.worker.budgets import BatchBudgets
from callboard.core.worker.execution import Stop, execute, settle_stop
from callboard.core.worker.finisher import Finisher
from callboard.storage.postgres import leases, notices, queue, rates
from callboard.storage.postgres.finishing import finish_done_batches
from callboard.storage.postgres.reaper import Reaped, reap
from callboard.storage.postgres.singleton import Singleton

log = logging.getLogger(__name__)

# Which reason for stopping a run wins when two arrive: a lost lease writes nothing whatever else was
# asked, and a user's cancel is a final answer where a shutdown would only give the run back.
_STRENGTH = {Stop.SHUTDOWN: 0, Stop.CANCELLED: 1, Stop.LOST: 2}


@dataclass(frozen=True)
class WorkerOptions:
    """This worker's share and timings (seconds)."""

    concurrency: int = 16
    lease_s: float = 30.0
    poll_s: float = 0.5
    reap_s: float = 5.0
    shutdown_grace_s: float = 10.0
    # A worker with only a few free slots waits this long for more before claiming: runs started
    # together tend to end a few milliseconds apart, and one claim for all of them costs a round trip
    # and a commit instead of one each.
    claim_linger_s: float = 0.01


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
        specs = config.limits_by_key()
        self.limits = queue.Limits(
            per_key={key: spec.concurrency for key, spec in specs.items() if spec.concurrency is not None}
        )
        self.rates: dict[str, LimitSpec] = {key: spec for key, spec in specs.items() if spec.rate_per_s}
        self.paused = False
        self._active: dict[int, asyncio.Task[None]] = {}
        self._stops: dict[int, Stop] = {}
        # Runs whose task is writing how it stopped: no further cancel may interrupt that write.
        self._settling: set[int] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._stacks: dict[str, asyncio.Future[None]] = {}
        self._wake = asyncio.Event()
        self.budgets = BatchBudgets(config.call_budget, config.llm_max_tokens)
        self.finisher = Finisher(pool, self.budgets)

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
        few = max(1, self.options.concurrency // 4)
        lingered = False
        while not stop.is_set():
            free = self.options.concurrency - len(self._active)
            if 0 < free < few and self._active and not lingered and not self.paused:
                lingered = True  # once: a worker of long runs claims its one free slot just after
                await asyncio.sleep(self.options.claim_linger_s)
                continue
            lingered = False
            if free > 0 and not self.paused:
                try:
                    async with self.pool.connection() as conn:
                        await queue.label(conn, keys_of)
                        claims = await queue.claim(
                            conn, self.owner, free, self.limits, self.options.lease_s, self.budgets
                        )
                except Error as exc:
                    log.warning("claiming failed (%s); trying again", exc)
                    claims = []
                for claim in claims:
                    self._start(claim)
                if len(claims) == free:
                    continue  # the queue may hold more: claim again at once
            self._wake.clear()
            # A finished run, a notice, a reap or ``stop`` wakes the loop; otherwise it polls.
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waits, timeout=self.options.poll_s, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()

    def _start(self, claim: queue.Claim) -> None:
        task = asyncio.create_task(self._run(claim), name=f"run-{claim.run_id}")
        self._active[claim.run_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._active.pop(claim.run_id, None)
            if not task.cancelled() and (error := task.exception()) is not None:
                # Its lease is no longer renewed: it expires and the reaper returns the run.
                log.warning("run %s: dropped after an error: %r", claim.run_id, error)
            reason = self._stops.pop(claim.run_id, None)
            if task.cancelled() and claim.run_id not in self._settling:
                # Cancelled before its first step, so its own handler never ran: settle it here.
                self._spawn(settle_stop(self.pool, claim.lease(), reason, None))
            self._settling.discard(claim.run_id)
            self._wake.set()

        task.add_done_callback(done)

    def _spawn(self, work: Coroutine[None, None, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run(self, claim: queue.Claim) -> None:
        try:
            test = await self._prepare(claim)
        except asyncio.CancelledError:
            # Stopped before its executor started (a cancel right after the claim): settled here, or
            # the run would stay 'running' until its lease expired.
            await settle_stop(self.pool, claim.lease(), self._settle(claim.run_id), None)
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
            lambda: self._settle(claim.run_id),
        )

    async def _prepare(self, claim: queue.Claim) -> TestDefinition | None:
        """The claimed run's test, after the rate slots of its keys; None (and the run finished as an
        error) when its version is gone. While the store cannot answer, it asks again: the run stays
        this worker's as long as its heartbeat renews the lease (once the store is back, a lease that
        expired meanwhile makes the heartbeat stop the run)."""
        while True:
            try:
                return await self._prepare_once(claim)
            except Error as exc:
                log.warning("run %s: cannot reach the store (%s); trying again", claim.run_id, exc)
                await asyncio.sleep(self.options.poll_s)

    async def _prepare_once(self, claim: queue.Claim) -> TestDefinition | None:
        await self._stack_ready(claim.kind)  # before its rate slot: the slot is then used at once
        waits = [0.0]
        rated = [(key, spec) for key in claim.limit_keys if (spec := self.rates.get(key)) is not None]
        if rated:  # the claim brought the definition: only rate slots need the store
            async with self.pool.connection() as conn:
                for key, spec in rated:
                    rate = spec.rate_per_s or 0.0
                    burst = spec.burst or max(1.0, rate)  # as the in-process limiter
                    waits.append(await rates.reserve(conn, f"{key}:rate", rate, burst))
        await asyncio.sleep(max(waits))  # the latest slot of its keys, with no connection held
        if claim.definition is None:  # its version was deleted under it: nothing to run, say so
            missing = error_result("missing-test", f"test version {claim.version_id} is not in the store")
            async with self.pool.connection() as conn:
                await leases.finish(conn, claim.lease(), missing, None)
            return None
        return _test_of(int(claim.version_id or 0), claim.definition)

    async def _stack_ready(self, kind: str) -> None:
        """Import the stack of ``kind``'s executor off the event loop, once (twilio and numpy take about
        a second: on the loop they would stall every run in flight)."""
        ready = self._stacks.get(kind)
        if ready is None:
            ready = self._stacks[kind] = asyncio.ensure_future(prepare(self.executors, [kind]))
        await asyncio.shield(ready)

    def _stop(self, run_id: int, reason: Stop) -> None:
        """Cancel the run's task for ``reason``. A repeat (the heartbeat's fallback after a notice, a
        user's cancel during shutdown) cancels it again — an executor may have swallowed the first — and
        a stronger reason replaces a weaker one, until the run starts writing how it stopped."""
        task = self._active.get(run_id)
        if task is None or run_id in self._settling:
            return
        known = self._stops.get(run_id)
        if known is None or _STRENGTH[reason] > _STRENGTH[known]:
            self._stops[run_id] = reason
        task.cancel()

    def _settle(self, run_id: int) -> Stop | None:
        """Why the run's task was cancelled; from now on it is writing that, and is cancelled no more."""
        self._settling.add(run_id)
        return self._stops.get(run_id)

    async def _heartbeat(self) -> None:
        # Only the runs started before the heartbeat read the leases can be judged by its answer: a run
        # claimed while it was in flight is missing from ``held`` without being lost.
        executing = dict(self._active)
        async with self.pool.connection() as conn:
            beat = await queue.heartbeat(conn, self.owner, self.options.lease_s, list(executing))
        self.paused = beat.paused
        for run_id, task in executing.items():
            if self._active.get(run_id) is not task:
                continue  # ended meanwhile (and perhaps claimed again: that lease is a new one)
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
            try:
                async with self.pool.connection() as conn:
                    await finish_done_batches(conn)
            except Error as exc:
                log.warning("batch finishing failed (%s); trying again", exc)
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
        elif notice.action == "wake":  # a batch was just queued: claim now, not at the next poll
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
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
