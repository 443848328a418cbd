"""The engine's parts on their own: queue order, limits, backoff, events, progress."""

from __future__ import annotations

import asyncio
import random

import pytest

from callboard.core.engine.attempt import run_attempt
from callboard.core.engine.events import EventBus, EventsLost
from callboard.core.engine.limits import Limiter, LimitSpec, TokenBucket
from callboard.core.engine.progress import BatchTracker
from callboard.core.engine.retry import Backoff
from callboard.core.engine.run_queue import QueuedRun, RunQueue
from callboard.core.engine.selection import Selection, SelectionError, choose, limit_keys
from callboard.core.engine.start_ahead import StartAhead
from callboard.core.execution.base import Job, Outcome, RateLimited, TransientError
from callboard.core.models import BatchCounts, CheckResult, RunStatus, TestOutline, parse_test
from callboard.core.models.events import RunQueued

TEST = parse_test({"name": "t", "kind": "command", "command": "true"})
OUTLINE = TestOutline(TEST, '{"name":"t","kind":"command","command":"true"}')


def _run(run_id: int, priority: int = 0) -> QueuedRun:
    return QueuedRun(
        run_id=run_id,
        batch_id=1,
        priority=priority,
        attempt=0,
        max_attempts=1,
        test=OUTLINE,
        limit_keys=("kind:command",),
    )


def test_queue_is_priority_then_fifo_and_cancel_is_lazy() -> None:
    queue = RunQueue()
    for run_id, priority in [(1, 0), (2, 5), (3, 0), (4, 5), (5, -1)]:
        queue.push(_run(run_id, priority))
    assert queue.remove(3) is not None
    assert len(queue) == 4
    order = [run.run_id for run in iter(queue.pop, None)]
    assert order == [2, 4, 1, 5]


def test_parked_runs_keep_their_place_and_can_be_cancelled() -> None:
    queue = RunQueue()
    first, second, third = _run(1), _run(2), _run(3)
    for run in (first, second, third):
        queue.push(run)
    assert queue.pop() is first
    queue.park(first, "host:a")
    assert len(queue) == 3 and queue.get(1) is first
    queue.unpark("host:a")
    assert [run.run_id for run in iter(queue.pop, None)] == [1, 2, 3]
    queue.push(first)
    popped = queue.pop()
    assert popped is not None
    queue.park(popped, "host:a")
    queue.remove(1)
    queue.unpark("host:a")
    assert queue.pop() is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, capacity=1.0, clock=clock)
    assert bucket.wait_time() == 0
    bucket.take()
    assert bucket.wait_time() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.wait_time() == 0


def test_limiter_concurrency_and_rate_all_or_nothing() -> None:
    clock = FakeClock()
    limiter = Limiter(
        {"kind:http": LimitSpec(concurrency=2), "host:a": LimitSpec(rate_per_s=1.0)}, clock=clock
    )
    assert limiter.try_acquire(["kind:http", "host:a"]) is None
    blocked = limiter.try_acquire(["kind:http", "host:a"])
    assert blocked == ("host:a", pytest.approx(1.0))
    # The rate block took nothing: the kind slot is still free for another host.
    assert limiter.try_acquire(["kind:http", "host:b"]) is None
    assert limiter.try_acquire(["kind:http", "host:c"]) == ("kind:http", float("inf"))
    limiter.release(["kind:http", "host:b"])
    assert limiter.try_acquire(["kind:http", "host:c"]) is None
    assert limiter.usage()["kind:http"]["in_use"] == 2


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(base_s=1.0, max_s=8.0)
    rng = random.Random(1)
    delays = [backoff.delay(n, rng=rng) for n in range(1, 7)]
    for n, delay in enumerate(delays, start=1):
        expected = min(8.0, 2 ** (n - 1))
        assert 0.5 * expected <= delay <= 1.5 * expected
    assert backoff.delay(1, retry_after=20.0, rng=rng) == 20.0


async def test_event_bus_ids_resume_and_gap() -> None:
    bus = EventBus(capacity=3)
    for batch_id in range(5):
        bus.publish(RunQueued(batch_id=batch_id, run_ids=[]))
    assert bus.last_id == 5
    assert [e.id for e in bus.since(3) or []] == [4, 5]
    assert bus.since(1) is None
    with pytest.raises(EventsLost):
        async for _ in bus.subscribe(last_id=0):
            pass

    received: list[int] = []

    async def consume() -> None:
        async for event in bus.subscribe(last_id=4):
            received.append(event.id)
            if event.id == 7:
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    bus.publish(RunQueued(batch_id=9, run_ids=[]))
    bus.publish(RunQueued(batch_id=9, run_ids=[]))
    await asyncio.wait_for(task, 5)
    assert received == [5, 6, 7]


async def test_slow_subscriber_is_cut_off_not_blocking() -> None:
    bus = EventBus(capacity=100, subscriber_queue=2)
    seen: list[int] = []

    async def consume() -> None:
        async for event in bus.subscribe():
            seen.append(event.id)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    for _ in range(10):
        bus.publish(RunQueued(batch_id=1, run_ids=[]))
    await asyncio.wait_for(task, 5)
    assert seen == [1, 2]


async def test_a_filtered_subscriber_gets_only_what_it_wants_and_is_not_cut_off_by_the_rest() -> None:
    bus = EventBus(capacity=100, subscriber_queue=2)
    for batch_id in (1, 2, 1):
        bus.publish(RunQueued(batch_id=batch_id, run_ids=[]))
    seen: list[tuple[int, int]] = []

    async def consume() -> None:
        async for event in bus.subscribe(last_id=0, wants=lambda event: getattr(event, "batch_id", 0) == 2):
            seen.append((event.id, event.batch_id))  # type: ignore[attr-defined]
            if len(seen) == 2:
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    for _ in range(10):  # unwanted: none is queued, so the small queue never overflows
        bus.publish(RunQueued(batch_id=1, run_ids=[]))
    bus.publish(RunQueued(batch_id=2, run_ids=[]))
    await asyncio.wait_for(task, 5)
    assert seen == [(2, 2), (14, 2)]


def test_batch_tracker_counts_rate_and_eta() -> None:
    tracker = BatchTracker(1, BatchCounts(total=4, queued=4), started=0.0)
    tracker.start()
    tracker.record(RunStatus.PASSED, was_running=True, now=1.0)
    tracker.record(RunStatus.CANCELLED, was_running=False, now=2.0)
    assert (tracker.counts.queued, tracker.counts.running, tracker.counts.done) == (2, 0, 2)
    assert tracker.rate_per_s(now=2.0) == pytest.approx(1.0)
    assert tracker.eta_s(now=2.0) == pytest.approx(2.0)
    assert not tracker.finished


def test_eta_is_not_zero_while_a_long_run_is_still_going() -> None:
    # Nine quick command runs finish in the first second; the tenth, a long one, keeps going.
    tracker = BatchTracker(1, BatchCounts(total=10, queued=10), started=0.0)
    for run_id in range(1, 11):
        tracker.start(run_id, "command", timeout_s=60.0, now=0.0)
    for run_id in range(1, 10):
        tracker.record(RunStatus.PASSED, was_running=True, now=0.1 * run_id, run_id=run_id, duration_ms=100.0)
    # By the recent rate alone one run is left at ~0.9 runs/s: about a second, and soon "0s".
    assert tracker.eta_s(now=1.0) >= 0.5
    assert tracker.eta_s(now=10.0) == pytest.approx(5.0)  # ten seconds in: about half as long again
    assert tracker.eta_s(now=40.0) == pytest.approx(20.0)
    assert tracker.eta_s(now=55.0) == pytest.approx(5.0)  # never past its timeout
    tracker.record(RunStatus.PASSED, was_running=True, now=56.0, run_id=10, duration_ms=56_000.0)
    assert tracker.finished and tracker.eta_s(now=56.0) == 0.0


def test_eta_weighs_queued_runs_by_the_batch_s_durations() -> None:
    tracker = BatchTracker(1, BatchCounts(total=12, queued=12), started=0.0)
    for run_id in range(1, 11):
        tracker.start(run_id, "http", timeout_s=30.0, now=0.0)
    for run_id in range(1, 9):
        tracker.record(RunStatus.PASSED, was_running=True, now=1.0, run_id=run_id, duration_ms=2000.0)
    # The rate (8 finishes in 1 s) says 4 runs take 0.5 s; but runs take ~2 s here: two running with
    # ~1 s left each and two queued of ~2 s, two at a time.
    assert tracker.eta_s(now=1.0) == pytest.approx((1.0 + 1.0 + 2 * 2.0) / 2)
    # Nothing finished yet and nothing known: no ETA rather than a guess.
    assert BatchTracker(2, BatchCounts(total=3, queued=3), started=0.0).eta_s(now=5.0) is None


def test_limit_keys_by_kind_and_target() -> None:
    http = parse_test({"name": "h", "kind": "http", "request": {"url": "https://api.example.com/x"}})
    assert limit_keys(http) == ("kind:http", "host:api.example.com:443")
    call = parse_test({"name": "c", "kind": "call", "phone": "+15555550100"})
    assert limit_keys(call) == ("kind:call", "twilio")
    assert limit_keys(TEST) == ("kind:command",)


def test_selection_errors() -> None:
    with pytest.raises(SelectionError, match="nothing selected"):
        choose([], Selection())
    with pytest.raises(SelectionError, match="no such test"):
        choose([], Selection(names=("ghost",)))


async def test_rate_limits_wait_without_using_up_retries() -> None:
    class Throttled:
        kind = "http"

        def __init__(self) -> None:
            self.calls = 0

        async def execute(self, job: Job) -> Outcome:
            self.calls += 1
            if self.calls <= 5:
                raise RateLimited("rate_limited", "429 Too Many Requests", retry_after=0.001)
            if self.calls == 6:
                raise TransientError("connection", "reset")
            return Outcome(checks=[CheckResult(name="ok", passed=True)])

        async def aclose(self) -> None:
            return None

    async def record(_: str) -> None:
        return None

    executor = Throttled()
    test = parse_test({"name": "t", "kind": "http", "request": {"url": "http://127.0.0.1:9/"}})
    job = Job(1, 0, test, 5.0, record)
    result = await run_attempt(executor, job, max_retries=1, backoff=Backoff(0.001, 0.002))
    assert result.status == "passed" and executor.calls == 7
    assert result.metrics["retries"] == 1  # the connection reset, not the five rate limits
    executor.calls = 5
    spent = await run_attempt(executor, job, max_retries=0, backoff=Backoff(0.001, 0.002))
    assert spent.status == "error" and spent.error_kind == "connection"


def test_start_ahead_covers_eight_commits_of_slots_given_back_at_the_recent_rate() -> None:
    now = [100.0]
    ahead = StartAhead(cap=128, clock=lambda: now[0])
    assert ahead.allowance() == 0  # nothing has ended yet: no run starts ahead
    for _ in range(100):
        ahead.committed(0.02)  # start commits take 20 ms
    for _ in range(10):  # a burst: ten slots back at once (runs a commit started end together)
        ahead.released()
    assert ahead.allowance() == 80  # ten per 20 ms seen so far, over eight commits
    for _ in range(9):  # then a burst every 100 ms for the rest of the second: 100 per second
        now[0] += 0.1
        for _ in range(10):
            ahead.released()
    now[0] += 0.1
    assert ahead.allowance() == 16  # 100 per second, for eight 20 ms commits
    for _ in range(1000):  # a second at 3,000 per second: the cap holds
        now[0] += 0.001
        for _ in range(3):
            ahead.released()
    assert ahead.allowance() == 128
    now[0] += 1.5
    assert ahead.allowance() == 0  # slow runs: none waits started without a slot
