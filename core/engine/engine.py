"""The engine: batches in, every run out exactly once, durably, within the limits.

A dispatcher takes runs from the priority queue while global slots are free (or will be by the time
their start is committed: core/engine/start_ahead.py); a run whose kind or target limit is full is
parked until that limit frees up. Each run executes in its own task, its work in one of the
``concurrency`` slots; results go through the group-commit writer and events are published only after
the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from callboard.core.engine.attempt import error_result, monotonic_ms, run_attempt
from callboard.core.engine.batch_book import BatchBook
from callboard.core.engine.budget import CallBudget, CallBudgetSpec, ModelBudget
from callboard.core.engine.events import EventBus
from callboard.core.engine.limits import Limiter, LimitSpec
from callboard.core.engine.planner import BatchPlanner
from callboard.core.engine.retry import Backoff
from callboard.core.engine.run_queue import QueuedRun, RunQueue
from callboard.core.engine.selection import MODEL_KEY, limit_keys
from callboard.core.engine.start_ahead import StartAhead
from callboard.core.engine.submission import Submitted, create_batch
from callboard.core.execution.base import Executor, Job
from callboard.core.executors.registry import prepare
from callboard.core.models import (
    BatchStatus,
    Run,
    RunResult,
    RunStatus,
    TestOutline,
)
from callboard.core.models.api import QueueStatus
from callboard.core.models.dial_intent import DialIntent
from callboard.core.models.events import RunQueued
from callboard.core.models.selection import BatchOptions, Selection
from callboard.core.redaction import Redactor
from callboard.storage.batches_repo import BatchEntry, CreatedBatch
from callboard.storage.interface import ResultWriting, StoreBackend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    """Limits and timings of the engine."""

    concurrency: int = 64
    kind_limits: dict[str, LimitSpec] = field(default_factory=dict)
    target_limits: dict[str, LimitSpec] = field(default_factory=dict)
    backoff: Backoff = field(default_factory=Backoff)
    shutdown_grace_s: float = 10.0
    progress_interval_s: float = 0.25
    call_budget: CallBudgetSpec = field(default_factory=CallBudgetSpec)
    # Numbers (or prefixes such as "+1555") calls may go to; empty allows any.
    call_allowlist: tuple[str, ...] = ()
    # Tokens one batch may spend on the model ([llm].batch_max_tokens); None: no cap.
    llm_max_tokens: int | None = None
    # Masks the settings' secret values in every result before it is stored.
    redactor: Redactor = field(default_factory=Redactor)

    def limits_by_key(self) -> dict[str, LimitSpec]:
        """Every limit by the key runs carry (``kind:<kind>``, then the target keys), as the in-process
        engine, the workers and the cluster's status apply them."""
        return {f"kind:{kind}": spec for kind, spec in self.kind_limits.items()} | self.target_limits


@dataclass
class _Attempt:
    """The attempt a run is on; a transient error's retry moves it on."""

    number: int


@dataclass
class _Active:
    task: asyncio.Task[None]
    run: QueuedRun
    requeue: bool = False
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Engine:
    """Runs batches; see the module docstring."""

    def __init__(
        self,
        store: StoreBackend,
        writer: ResultWriting,
        executors: Mapping[str, Executor],
        config: EngineConfig | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.store = store
        self.writer = writer
        self.executors = executors
        self.config = config or EngineConfig()
        self.events = events or EventBus()
        self.limiter = Limiter(self.config.limits_by_key())
        self._queue = RunQueue()
        self._active: dict[int, _Active] = {}
        # The slots runs do their work in; a run started ahead waits for one after its start commit.
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._working = 0
        # At most twice the concurrency waits started ahead (core/engine/start_ahead.py).
        self._ahead = StartAhead(2 * self.config.concurrency)
        self._book = BatchBook(store, writer, self.events, self.config.progress_interval_s)
        self._wake = asyncio.Event()
        self._paused = False
        self._stopping = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._planner = BatchPlanner(set(executors), self.config.call_allowlist)
        self._fills: dict[int, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[object]] = set()
        self.budget = CallBudget(self.config.call_budget)
        self.model_budget = ModelBudget(self.config.llm_max_tokens)
        # Calls whose create may have reached the provider before a crash, by run id (loaded at start).
        self._dial_intents: dict[int, DialIntent] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> tuple[int, int]:
        """Recover from a crash, load the queue, start dispatching; returns (requeued, errored)."""
        leftovers = self._abandon(await self.store.recovery.interrupted_external_ids())
        requeued, errored = await self.store.recovery.requeue_interrupted()
        self._dial_intents = await self.store.runs.dial_intents()
        if requeued or errored or leftovers:
            log.info(
                "recovered from an unclean stop: %d interrupted runs requeued, %d ended 'interrupted' "
                "(out of attempts), %d leftover command processes killed",
                requeued,
                errored,
                leftovers,
            )
        for batch in await self.store.batches.list(limit=100_000, status=BatchStatus.RUNNING):
            self._book.track(batch)
        kinds: set[str] = set()
        outlines: dict[str, TestOutline] = {}  # runs of one test version share its outline
        for run in await self.store.runs.queued(limit=None):
            queued = self._queued_from_row(run, outlines)
            kinds.add(queued.test.kind)
            self._queue.push(queued)
        await prepare(self.executors, kinds)
        for batch_id in self._book.tracked():
            await self._book.finish_if_done(batch_id)
        # A store fault stops dispatch; its end starts it again.
        self.writer.on_fault_change(self._wake.set)
        self._dispatcher = asyncio.create_task(self._dispatch(), name="callboard-dispatcher")
        self._wake.set()
        return requeued, errored

    def _abandon(self, external_ids: list[str]) -> int:
        """Let each executor clean up what a crashed daemon left behind (a command's process group)
        before anything runs again; returns how many processes were killed. Executors are only looked
        up (and so built) when something was left behind."""
        killed = 0
        if not external_ids:
            return killed
        for executor in self.executors.values():
            abandon = getattr(executor, "abandon", None)
            if abandon is not None:
                killed += sum(abandon(external_id) for external_id in external_ids)
        return killed

    async def shutdown(self, grace_s: float | None = None) -> None:
        """Stop dispatching, let running runs finish within the grace period, requeue the rest."""
        await self.filled()
        self._stopping = True
        self._wake.set()
        if self._dispatcher is not None:
            await self._dispatcher
        grace = self.config.shutdown_grace_s if grace_s is None else grace_s
        await self._settle(set(self._background), grace)
        tasks = [active.task for active in self._active.values()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for active in list(self._active.values()):
                if active.task in pending:
                    active.requeue = True
                    active.task.cancel()
            await self._settle(pending, grace)
        for timer in self._timers.values():
            timer.cancel()

    async def _settle(self, tasks: set[asyncio.Task[Any]], grace_s: float) -> None:
        """Wait for tasks that end with a write. While the store cannot commit they would wait for
        ever: after the grace period they are left to the writer's close, which fails their writes,
        and recovery settles those runs at the next start."""
        if not tasks:
            return
        _, stuck = await asyncio.wait(tasks, timeout=max(grace_s, 1.0))
        if stuck:
            log.warning(
                "stopping with %d runs whose state could not be stored (%s); the next start recovers them",
                len(stuck),
                self.writer.fault.cause if self.writer.fault else "the store did not answer",
            )

    # -- submitting ------------------------------------------------------------------------------

    async def submit(
        self,
        selection: Selection,
        options: BatchOptions | None = None,
        *,
        label: str = "",
        source: str = "cli",
        schedule_id: int | None = None,
    ) -> Submitted:
        """Create a batch of the selected tests and queue its runs (raises SelectionError)."""
        new = await create_batch(
            self.store,
            self._planner,
            selection,
            options or BatchOptions(),
            label=label,
            source=source,
            schedule_id=schedule_id,
        )
        batch = new.created.batch
        self._book.track(batch)
        # The runs are committed; putting them in the in-memory queue (10,000 objects for a big batch)
        # happens just after the caller has its answer. Cancels and shutdown wait for it first.
        fill = asyncio.get_running_loop().create_task(self._fill(batch.id, new.entries, new.created))
        self._fills[batch.id] = fill
        fill.add_done_callback(lambda _: self._fills.pop(batch.id, None))
        return new.submitted

    async def _fill(self, batch_id: int, entries: list[BatchEntry], created: CreatedBatch) -> None:
        # The stacks its kinds need are imported before any of its runs starts (off the event loop).
        await prepare(self.executors, {e.test.outline.kind for e in entries if e.skip_reason is None})
        by_test = {entry.test.id: (entry, self._planner.keys(entry)) for entry in entries}
        queued_ids = []
        for run in created.runs:
            if not run.queued:
                continue
            entry, keys = by_test[run.test_id]
            queued_ids.append(run.id)
            self._queue.push(
                QueuedRun(
                    run_id=run.id,
                    batch_id=batch_id,
                    priority=run.priority,
                    attempt=0,
                    max_attempts=entry.max_attempts,
                    test=entry.test.outline,
                    limit_keys=keys,
                )
            )
        self.events.publish(RunQueued(batch_id=batch_id, run_ids=queued_ids))
        await self._book.finish_if_done(batch_id)
        self._wake.set()

    async def filled(self) -> None:
        """Wait until every submitted batch is in the in-memory queue."""
        while self._fills:
            await asyncio.gather(*list(self._fills.values()), return_exceptions=True)

    @staticmethod
    def _queued_from_row(run: Run, outlines: dict[str, TestOutline]) -> QueuedRun:
        text = json.dumps(run.snapshot, separators=(",", ":"), ensure_ascii=False)
        test = outlines.get(text)
        if test is None:
            test = outlines[text] = TestOutline.parse(text)
        return QueuedRun(
            run_id=run.id,
            batch_id=run.batch_id,
            priority=run.priority,
            attempt=run.attempt,
            max_attempts=run.max_attempts,
            test=test,
            limit_keys=limit_keys(test),
            external_id=run.external_id,
        )

    async def wait_batch(self, batch_id: int) -> None:
        """Return once every run of the batch is final."""
        await self._book.wait(batch_id)

    # -- control ---------------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop starting new runs; running ones go on."""
        self._paused = True

    def resume(self) -> None:
        """Start runs again."""
        self._paused = False
        self._wake.set()

    @property
    def paused(self) -> bool:
        """Whether dispatch is paused."""
        return self._paused

    async def cancel_run(self, run_id: int) -> bool:
        """Cancel a queued run at once, or a running one through its task; False if neither."""
        await self.filled()
        run = self._queue.remove(run_id)
        if run is not None:
            await self._cancel_queued([run])
            return True
        active = self._active.get(run_id)
        if active is not None:
            active.task.cancel()
            return True
        return False

    async def cancel_batch(self, batch_id: int) -> int:
        """Cancel every queued and running run of a batch; returns how many were cancelled."""
        await self.filled()
        waiting = [
            run
            for run_id in self._queue.ids()
            if (run := self._queue.get(run_id)) and run.batch_id == batch_id
        ]
        for run in waiting:
            self._queue.remove(run.run_id)
        cancelled = await self._cancel_queued(waiting)
        running = [a for a in self._active.values() if a.run.batch_id == batch_id]
        for active in running:
            active.task.cancel()
        return cancelled + len(running)

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _skip_queued(self, runs: list[QueuedRun], reason: str) -> None:
        by_id = {run.run_id: run for run in runs}
        for run_id in await self.writer.skip_queued(list(by_id), reason):
            run = by_id[run_id]
            result = RunResult(status=RunStatus.SKIPPED, error_message=reason)
            await self._book.run_ended(
                run_id, run.batch_id, run.test.name, result, duration_ms=None, was_running=False
            )

    async def _cancel_queued(self, runs: list[QueuedRun]) -> int:
        if not runs:
            return 0
        by_id = {run.run_id: run for run in runs}
        applied = await self.writer.cancel_queued(list(by_id))
        for run_id in applied:
            run = by_id[run_id]
            result = RunResult(status=RunStatus.CANCELLED, error_message="cancelled while queued")
            await self._book.run_ended(
                run_id, run.batch_id, run.test.name, result, duration_ms=None, was_running=False
            )
        return len(applied)

    # -- dispatching -----------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            while (
                not self._stopping
                and not self._paused
                and self.writer.fault is None  # no run starts while its start cannot be committed
                and len(self._active) < self.config.concurrency + self._ahead.allowance()
            ):
                run = self._queue.pop()
                if run is None:
                    break
                # A call not placed yet must fit the batch's budget; one placed before a restart is
                # only watched again, whatever the budget says.
                refusal = self.budget.refusal(run.batch_id) if run.test.kind == "call" else None
                if refusal is None and MODEL_KEY in run.limit_keys:
                    refusal = self.model_budget.refusal(run.batch_id)
                if refusal is not None and run.external_id is None:
                    self._spawn(self._skip_queued([run], refusal))
                    continue
                blocked = self.limiter.try_acquire(run.limit_keys)
                if blocked is not None:
                    key, wait = blocked
                    self._queue.park(run, key)
                    if wait != float("inf"):
                        self._unpark_later(key, wait)
                    continue
                if run.test.kind == "call" and run.external_id is None:
                    self.budget.dialled(run.batch_id)
                task = asyncio.create_task(self._execute(run), name=f"run-{run.run_id}")
                self._active[run.run_id] = _Active(task, run)

    def _unpark_later(self, key: str, wait: float) -> None:
        if key in self._timers:
            return

        def fire() -> None:
            self._timers.pop(key, None)
            self._queue.unpark(key)
            self._wake.set()

        self._timers[key] = asyncio.get_running_loop().call_later(wait, fire)

    def _release(self, run: QueuedRun) -> None:
        self.limiter.release(run.limit_keys)
        for key in run.limit_keys:
            self._queue.unpark(key)
        self._wake.set()

    # -- one run ---------------------------------------------------------------------------------

    async def _execute(self, run: QueuedRun) -> None:
        attempt = _Attempt(run.attempt + 1)
        started = time.monotonic()
        # The attempt is counted, and committed, before the work starts: a crash mid-run can never
        # hide a re-execution. While the store cannot commit, no run gets past this point.
        # (A future from the writer, not a task: ensure_future hands it back as it is.)
        start = self.writer.mark_started(run.run_id, attempt.number, datetime.now(UTC))
        start_op = asyncio.ensure_future(start)
        executor = self.executors.get(run.test.kind)

        async def record_external_id(external_id: str) -> None:
            await self.writer.set_external_id(run.run_id, attempt.number, external_id)

        async def before_retry(job: Job) -> Job:
            # A transient error's retry is a re-execution too; it is counted before it starts.
            await self.writer.next_attempt(run.run_id, job.attempt)
            attempt.number = job.attempt + 1
            return replace(job, attempt=attempt.number)

        async def record_dial_intent(intent: DialIntent | None) -> None:
            await start_op
            if not await self.writer.set_dial_intent(run.run_id, attempt.number, intent):
                raise RuntimeError(
                    f"run {run.run_id} is no longer running attempt {attempt.number}: not dialling"
                )

        job = Job(
            run.run_id,
            attempt.number,
            run.test.definition,
            run.test.effective_timeout_s(),
            record_external_id,
            run.external_id,
            record_dial_intent,
            self._dial_intents.pop(run.run_id, None) if run.external_id is None else None,
        )
        try:
            if not await asyncio.shield(start_op):
                return  # no longer queued (cancelled meanwhile): nothing to run
            committed = time.monotonic()
            self._ahead.committed(committed - started)
            test = run.test
            self._book.run_started(
                run.run_id, run.batch_id, test.name, attempt.number, test.kind, test.effective_timeout_s()
            )
            await self._slots.acquire()
            # A run started ahead does not count its wait for a slot as its own time.
            started += time.monotonic() - committed
            self._working += 1
            try:
                if executor is None:  # queued by an older version that had this kind
                    result = error_result("unsupported", f"{run.test.kind} tests are not supported")
                else:
                    retries_left = max(0, run.max_attempts - attempt.number)
                    result = await run_attempt(executor, job, retries_left, self.config.backoff, before_retry)
            finally:
                self._working -= 1
                self._slots.release()
                self._ahead.released()
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            active = self._active.get(run.run_id)
            if active is not None and active.requeue:
                self._active.pop(run.run_id, None)
                self._release(run)
                with contextlib.suppress(Exception):
                    if await asyncio.shield(start_op):
                        await self.writer.requeue(run.run_id, attempt.number)
                return
            result = RunResult(status=RunStatus.CANCELLED, error_message="cancelled while running")
        except Exception as exc:  # the start could not be stored: the run was not carried out
            log.warning("run %s: not started, its start could not be stored: %s", run.run_id, exc)
            return
        finally:
            if run.run_id in self._active:
                del self._active[run.run_id]
                self._release(run)
        duration = monotonic_ms(started)
        if run.test.kind == "call":
            self.budget.ended(run.batch_id, result.metrics.get("duration_s", 0.0))
        if MODEL_KEY in run.limit_keys:
            result = self.model_budget.ended(run.batch_id, run.run_id, result)
        result = self.config.redactor.result(result)
        try:
            if not await asyncio.shield(start_op):
                return  # cancelled before it started, and something else settled it
            finished_at = datetime.now(UTC)
            applied = await self.writer.finish(run.run_id, attempt.number, result, finished_at, duration)
        except Exception as exc:
            log.warning("run %s: could not store its result; it stays for recovery: %s", run.run_id, exc)
            return
        if applied:
            await self._book.run_ended(
                run.run_id, run.batch_id, run.test.name, result, duration_ms=duration, was_running=True
            )

    # -- status ----------------------------------------------------------------------------------

    def status(self) -> QueueStatus:
        """Running, queued, paused, rate, ETA and limit usage, for the monitor."""
        rate, remaining = self._book.rate_and_remaining()
        # Each batch's ETA weighs remaining work by how long its runs take, not only the recent rate.
        etas = self._book.etas()
        known = [eta for eta in etas.values() if eta is not None]
        return QueueStatus.model_validate(
            {
                "running": len(self._active),
                "queued": len(self._queue),
                "paused": self._paused,
                "rate_per_s": round(rate, 2),
                "eta_s": max(known) if known else (round(remaining / rate, 1) if rate > 0 else None),
                "batch_eta_s": etas,
                "concurrency": {"in_use": self._working, "limit": self.config.concurrency},
                "limits": self.limiter.usage(),
                "last_event_id": self.events.last_id,
                "store_fault": self.writer.fault.describe() if self.writer.fault else None,
                "running_runs": [
                    {
                        "run_id": a.run.run_id,
                        "batch_id": a.run.batch_id,
                        "test_name": a.run.test.name,
                        "started_at": a.started_at,
                    }
                    for a in self._active.values()
                ],
            }
        )
