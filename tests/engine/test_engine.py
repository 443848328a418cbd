"""The engine end to end on real sockets and a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from aiohttp import web

from callboard.core.engine.engine import EngineConfig
from callboard.core.engine.limits import LimitSpec
from callboard.core.engine.retry import Backoff
from callboard.core.engine.selection import Selection
from callboard.core.models import RunStatus
from callboard.core.models.events import BatchFinished, RunFinished, RunStarted
from tests.engine.conftest import Server, add_tests, engine_on, http_test, serve, wait_until

FAST_BACKOFF = Backoff(base_s=0.01, max_s=0.05)


async def ok(request: web.Request, server: Server) -> web.Response:
    return web.json_response({"ok": True})


def statuses(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT test_name || '#' || trial, status FROM runs"))


async def test_batch_runs_every_test_once_and_events_follow_commits(db: Path) -> None:
    async with serve(ok) as server:
        await add_tests(db, [http_test(f"t{i}", f"{server.url}/t{i}") for i in range(30)])
        async with engine_on(db) as (engine, store):
            seen: list[object] = []

            async def collect() -> None:
                async for event in engine.events.subscribe(last_id=0):
                    seen.append(event)
                    if isinstance(event, RunFinished):
                        # Published only after the commit: the row is already final on disk.
                        with sqlite3.connect(db) as conn:
                            (status,) = conn.execute(
                                "SELECT status FROM runs WHERE id=?", (event.run_id,)
                            ).fetchone()
                        assert status == event.status.value
                    if isinstance(event, BatchFinished):
                        return

            collector = asyncio.create_task(collect())
            submitted = await engine.submit(Selection(all=True))
            await engine.wait_batch(submitted.batch.id)
            await asyncio.wait_for(collector, 10)
            batch = await store.batches.get(submitted.batch.id)
    assert batch is not None and batch.status.value == "finished"
    assert batch.counts.passed == 30
    assert set(statuses(db).values()) == {"passed"}
    assert all(server.hits[f"/t{i}"] == 1 for i in range(30))
    finished = [e.run_id for e in seen if isinstance(e, RunFinished)]
    started = [e.run_id for e in seen if isinstance(e, RunStarted)]
    assert sorted(finished) == sorted(set(finished)) and len(finished) == 30
    assert set(started) == set(finished)
    final = [e for e in seen if isinstance(e, BatchFinished)]
    assert len(final) == 1 and final[0].passed == 30 and final[0].pass_rate == 100.0


async def test_priority_order_and_repeat(db: Path) -> None:
    order: list[str] = []

    async def record(request: web.Request, server: Server) -> web.Response:
        order.append(request.path)
        return web.json_response({})

    async with serve(record) as server:
        await add_tests(
            db,
            [
                http_test("low", f"{server.url}/low"),
                http_test("high", f"{server.url}/high", priority=10),
                http_test("mid", f"{server.url}/mid", priority=5, repeat=2),
            ],
        )
        async with engine_on(db, EngineConfig(concurrency=1, backoff=FAST_BACKOFF)) as (engine, _store):
            engine.pause()
            submitted = await engine.submit(Selection(all=True))
            engine.resume()
            await engine.wait_batch(submitted.batch.id)
    assert order == ["/high", "/mid", "/mid", "/low"]
    assert submitted.batch.counts.total == 4


async def test_per_target_concurrency_limit(db: Path) -> None:
    async def slow(request: web.Request, server: Server) -> web.Response:
        await asyncio.sleep(0.02)
        return web.json_response({})

    async with serve(slow) as limited, serve(slow) as free:
        host = limited.url.removeprefix("http://")
        tests = [http_test(f"a{i}", f"{limited.url}/a{i}") for i in range(20)]
        tests += [http_test(f"b{i}", f"{free.url}/b{i}") for i in range(20)]
        await add_tests(db, tests)
        config = EngineConfig(
            concurrency=10, target_limits={f"host:{host}": LimitSpec(concurrency=2)}, backoff=FAST_BACKOFF
        )
        async with engine_on(db, config) as (engine, _store):
            submitted = await engine.submit(Selection(all=True))
            await engine.wait_batch(submitted.batch.id)
    assert limited.max_in_flight <= 2
    assert free.max_in_flight > 2  # the limited host never held the other host's slots
    assert set(statuses(db).values()) == {"passed"}


async def test_quick_runs_start_ahead_but_work_within_the_concurrency(db: Path) -> None:
    async def quick(request: web.Request, server: Server) -> web.Response:
        await asyncio.sleep(0.005)
        return web.json_response({})

    async with serve(quick) as server:
        await add_tests(db, [http_test(f"q{i}", f"{server.url}/q{i}") for i in range(120)])
        async with engine_on(db, EngineConfig(concurrency=3, backoff=FAST_BACKOFF)) as (engine, store):
            submitted = await engine.submit(Selection(all=True))
            most_running = 0
            while (batch := await store.batches.get(submitted.batch.id)) and batch.counts.queued + (
                batch.counts.running
            ):
                status = engine.status()
                assert status.concurrency.in_use <= 3
                most_running = max(most_running, status.running)
                await asyncio.sleep(0.001)
            await engine.wait_batch(submitted.batch.id)
    assert server.max_in_flight <= 3  # the agent never saw more requests at once than the concurrency
    assert most_running <= 9  # at most twice as many again started ahead, their starts committed
    assert set(statuses(db).values()) == {"passed"}
    assert all(server.hits[f"/q{i}"] == 1 for i in range(120))


async def test_transient_errors_retry_failed_checks_do_not(db: Path) -> None:
    async def flaky(request: web.Request, server: Server) -> web.Response:
        if request.path == "/flaky" and server.hits["/flaky"] <= 2:
            return web.json_response({}, status=503)
        if request.path == "/limited" and server.hits["/limited"] == 1:
            return web.json_response({}, status=429, headers={"Retry-After": "0"})
        if request.path == "/down":
            return web.json_response({}, status=500)
        if request.path == "/wrong":
            return web.json_response({"reply": "nope"})
        return web.json_response({})

    async with serve(flaky) as server:
        await add_tests(
            db,
            [
                http_test("flaky", f"{server.url}/flaky"),
                http_test("limited", f"{server.url}/limited"),
                http_test("down", f"{server.url}/down", retries=1),
                {
                    "name": "wrong",
                    "kind": "http",
                    "request": {"url": f"{server.url}/wrong"},
                    "checks": [{"jsonpath": "$.reply", "equals": "yes"}],
                },
            ],
        )
        async with engine_on(db) as (engine, store):
            submitted = await engine.submit(Selection(all=True))
            await engine.wait_batch(submitted.batch.id)
            runs = {run.test_name: run for run in await store.runs.page(batch_id=submitted.batch.id)}
    assert runs["flaky"].status == RunStatus.PASSED and runs["flaky"].metrics["retries"] == 2
    assert runs["limited"].status == RunStatus.PASSED
    assert runs["down"].status == RunStatus.ERROR and server.hits["/down"] == 2
    assert runs["wrong"].status == RunStatus.FAILED and server.hits["/wrong"] == 1
    assert runs["wrong"].score == 0.0


async def test_timeout_is_an_error(db: Path) -> None:
    async def hang(request: web.Request, server: Server) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    async with serve(hang) as server:
        await add_tests(db, [http_test("hangs", f"{server.url}/", timeout_s=0.2, retries=0)])
        async with engine_on(db) as (engine, store):
            submitted = await engine.submit(Selection(names=("hangs",)))
            await engine.wait_batch(submitted.batch.id)
            [run] = await store.runs.page(batch_id=submitted.batch.id)
    assert run.status == RunStatus.ERROR and run.error_kind == "timeout"


async def test_cancel_queued_and_running_and_batch(db: Path) -> None:
    release = asyncio.Event()

    async def gate(request: web.Request, server: Server) -> web.Response:
        await release.wait()
        return web.json_response({})

    async with serve(gate) as server:
        await add_tests(db, [http_test(f"t{i}", f"{server.url}/t{i}") for i in range(5)])
        config = EngineConfig(concurrency=1, backoff=FAST_BACKOFF, shutdown_grace_s=0)
        async with engine_on(db, config) as (engine, store):
            submitted = await engine.submit(Selection(all=True))
            await wait_until(lambda: server.in_flight == 1)
            runs = sorted(await store.runs.page(batch_id=submitted.batch.id), key=lambda r: r.id)
            assert await engine.cancel_run(runs[-1].id)  # queued: immediate
            assert (await store.runs.get(runs[-1].id)).status == RunStatus.CANCELLED  # type: ignore[union-attr]
            assert await engine.cancel_run(runs[0].id)  # running: through its task
            await wait_until(lambda: server.in_flight == 1)  # the next one started
            assert await engine.cancel_batch(submitted.batch.id) == 3
            await engine.wait_batch(submitted.batch.id)
            batch = await store.batches.get(submitted.batch.id)
            assert not await engine.cancel_run(runs[1].id)
        release.set()  # let the server's abandoned handlers end
    assert batch is not None and batch.counts.cancelled == 5


async def test_shutdown_requeues_running_runs_and_next_start_finishes_them(db: Path) -> None:
    async def slow(request: web.Request, server: Server) -> web.Response:
        await asyncio.sleep(0.5 if server.hits[request.path] == 1 else 0)
        return web.json_response({})

    async with serve(slow) as server:
        await add_tests(db, [http_test(f"t{i}", f"{server.url}/t{i}") for i in range(4)])
        config = EngineConfig(concurrency=2, backoff=FAST_BACKOFF, shutdown_grace_s=0)
        async with engine_on(db, config) as (engine, _store):
            submitted = await engine.submit(Selection(all=True))
            await wait_until(lambda: server.in_flight == 2)
        assert sorted(statuses(db).values()) == ["queued"] * 4
        async with engine_on(db, config) as (engine, _store):
            await engine.wait_batch(submitted.batch.id)
    assert sorted(statuses(db).values()) == ["passed"] * 4


async def test_recovery_requeues_interrupted_runs_and_errors_past_the_limit(db: Path) -> None:
    async with serve(ok) as server:
        await add_tests(
            db, [http_test("a", f"{server.url}/a", retries=1), http_test("b", f"{server.url}/b", retries=0)]
        )
        async with engine_on(db) as (engine, store):
            engine.pause()
            submitted = await engine.submit(Selection(all=True))
        with sqlite3.connect(db) as conn:  # as if the process died mid-run
            conn.execute("UPDATE runs SET status='running', attempt=1")
        async with engine_on(db) as (engine, store):
            await engine.wait_batch(submitted.batch.id)
            runs = {run.test_name: run for run in await store.runs.page(batch_id=submitted.batch.id)}
    assert runs["a"].status == RunStatus.PASSED and runs["a"].attempt == 2
    assert runs["b"].status == RunStatus.ERROR and runs["b"].error_kind == "interrupted"
