"""``callboard store copy --to postgresql://…`` through the real CLI: an SQLite history moved whole to an
empty PostgreSQL database, ids kept and sequences moved past them; a non-empty target refused (exit 2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from callboard.core.models import RunResult, RunStatus
from callboard.core.models.dial_intent import DialIntent
from callboard.core.models.schedules import ScheduleSpec
from callboard.storage import Store
from callboard.storage.batches_repo import BatchEntry
from callboard.storage.interface import StoreBackend
from callboard.storage.postgres.store import PgStore
from tests.conftest import CliRunner
from tests.storage.conftest import http_test

PASSWORD = "copy-s3cret"


async def _make_history(path: Path) -> None:
    """Two batches (finished and skipped runs, a run with a dial intent), a changed test (two versions),
    a deleted test, a schedule with a fired slot."""
    async with await Store.open(path) as store:
        await store.tests.upsert_many([http_test(name, tags=["smoke"]) for name in ("a", "b", "gone")])
        schedule = await store.schedules.create(ScheduleSpec(name="nightly", cron="0 2 * * *", all=True))
        writer = await store.start_writer(1.0, 5000)
        try:
            tests = await store.tests.list()
            created = await store.batches.create(
                "first", "cli", 0, {"all": True}, [BatchEntry(t, 2) for t in tests], schedule.id
            )
            first = created.batch
            now = datetime.now(UTC)
            for run_id in (run.id for run in created.runs):
                assert await writer.mark_started(run_id, 1, now)
                status = RunStatus.PASSED if run_id % 2 else RunStatus.FAILED
                assert await writer.finish(run_id, 1, RunResult(status=status, score=50.0), now, 5.0)
            await writer.finish_batch(first.id, "finished")
            slot = datetime(2026, 1, 1, 2, tzinfo=UTC)
            assert await store.schedules.record(schedule.id, slot, "fired")
            await store.schedules.set_batch(schedule.id, slot, first.id)
            await store.tests.upsert_many([http_test("a", tags=["v2"])])
            gone = await store.tests.get("gone")
            assert gone is not None
            await store.tests.delete([gone.id])
            tests = await store.tests.list()
            second = await store.batches.create(
                "second", "cli", 2, {}, [BatchEntry(tests[0]), BatchEntry(tests[1], skip_reason="later")]
            )
            queued = second.runs[0].id
            assert await writer.mark_started(queued, 1, now)
            assert await writer.set_dial_intent(queued, 1, DialIntent("+15550100", "+15550199", now))
            assert await writer.requeue(queued, 1)
        finally:
            await writer.close()


async def _everything(store: StoreBackend) -> dict[str, object]:
    """What the screens read, for comparing two stores."""
    schedule = await store.schedules.get("nightly")
    assert schedule is not None
    return {
        "tests": [
            (t.id, t.version, t.created_at, t.updated_at, t.definition) for t in await store.tests.list()
        ],
        "tagged": [t.id for t in await store.tests.list(tag="smoke")],
        "batches": [b.model_dump() for b in await store.batches.list()],
        "runs": [r.model_dump() for r in await store.runs.page(limit=1000)],
        "last": await store.runs.last_results(),
        "intents": await store.runs.dial_intents(),
        "schedule": schedule.model_dump(),
        "fires": await store.schedules.fires(schedule.id),
        "verdicts": await store.history.version_verdicts(10),
    }


async def _compare_and_continue(sqlite_path: Path, url: str) -> None:
    async with await Store.open(sqlite_path) as sqlite_store:
        expected = await _everything(sqlite_store)
        biggest_run = max(run.id for run in await sqlite_store.runs.page(limit=1000))
    pg = await PgStore.open(url)
    try:
        assert await _everything(pg) == expected
        # The numbering goes on past the copied ids.
        await pg.tests.upsert_many([http_test("new")])
        new = await pg.tests.get("new")
        assert new is not None and new.id == 3  # as SQLite would: one past the largest id kept
        third = await pg.batches.create("third", "cli", 0, {}, [BatchEntry(new)])
        assert third.batch.id == 3
        assert [run.id for run in third.runs] == [biggest_run + 1]
    finally:
        await pg.close()


def test_store_copy_keeps_everything_and_refuses_a_second_time(
    run_cli: CliRunner, state_dir: Path, pg_url: str
) -> None:
    sqlite_path = state_dir / "callboard.db"
    asyncio.run(_make_history(sqlite_path))
    user = pg_url.split("://")[1].split("@")[0]
    target = pg_url.replace(f"://{user}@", f"://{user}:{PASSWORD}@")

    copied = run_cli("store", "copy", "--to", target, timeout=120)
    assert copied.returncode == 0, copied.stderr
    assert "copied 2 tests, 2 batches, 8 runs and 1 schedules" in copied.stdout
    assert PASSWORD not in copied.stdout + copied.stderr

    asyncio.run(_compare_and_continue(sqlite_path, pg_url))

    again = run_cli("store", "copy", "--to", target)
    assert again.returncode == 2
    assert "already holds callboard data" in again.stderr and PASSWORD not in again.stderr


def test_store_copy_refuses_a_missing_history_and_a_wrong_url(run_cli: CliRunner, pg_url: str) -> None:
    missing = run_cli("store", "copy", "--to", pg_url)
    assert missing.returncode == 2 and "there is no callboard database" in missing.stderr
    wrong = run_cli("store", "copy", "--to", "mysql://x/y")
    assert wrong.returncode == 2 and "postgresql://" in wrong.stderr
