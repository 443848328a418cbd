"""Conformance: schedules and their fired slots; history verdicts per batch and per version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callboard.core.models import RunResult, RunStatus
from callboard.core.models.history import BatchVerdicts, VersionVerdicts
from callboard.core.models.schedules import ScheduleSpec
from callboard.storage.batches_repo import BatchEntry
from callboard.storage.errors import NameTakenError
from callboard.storage.interface import ResultWriting, StoreBackend
from tests.storage.conformance.helpers import queue
from tests.storage.conftest import http_test


async def test_schedules_and_slots_fire_once(store: StoreBackend) -> None:
    nightly = await store.schedules.create(ScheduleSpec(name="nightly", cron="0 2 * * *", tags=["smoke"]))
    hourly = await store.schedules.create(ScheduleSpec(name="Hourly", interval_s=3600, all=True))
    with pytest.raises(NameTakenError):
        await store.schedules.create(ScheduleSpec(name="nightly", interval_s=60, all=True))
    assert [s.name for s in await store.schedules.list()] == ["Hourly", "nightly"]
    got = await store.schedules.get("nightly")
    assert got is not None and got.id == nightly.id and got.tags == ["smoke"] and got.enabled
    slot = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert await store.schedules.record(nightly.id, slot, "fired")
    assert not await store.schedules.record(nightly.id, slot, "fired")
    assert await store.schedules.record(nightly.id, slot - timedelta(days=1), "missed")
    batch, _ = await queue(store, ["a"])
    await store.schedules.set_batch(nightly.id, slot, batch.id)
    fires = await store.schedules.fires(nightly.id)
    assert [(f.outcome, f.batch_id) for f in fires] == [("fired", batch.id), ("missed", None)]
    again = await store.schedules.get(nightly.id)
    assert again is not None and again.last_fire_at == slot
    assert await store.schedules.set_enabled(hourly.id, enabled=False)
    await store.schedules.set_next(hourly.id, slot)
    paused = await store.schedules.get(hourly.id)
    assert paused is not None and not paused.enabled and paused.next_fire_at == slot
    assert await store.schedules.last_batch_id(nightly.id) is None  # the batch was not the schedule's
    assert await store.schedules.delete(hourly.id)
    assert not await store.schedules.delete(hourly.id)
    assert await store.schedules.get(hourly.id) is None


async def test_last_batch_id_of_a_schedule(store: StoreBackend) -> None:
    schedule = await store.schedules.create(ScheduleSpec(name="s", interval_s=60, all=True))
    await store.tests.upsert_many([http_test("a")])
    test = await store.tests.get("a")
    assert test is not None
    ids = [
        (await store.batches.create("s", "schedule", 0, {}, [BatchEntry(test)], schedule.id)).batch.id
        for _ in range(3)
    ]
    assert await store.schedules.last_batch_id(schedule.id) == ids[2]
    assert await store.schedules.last_batch_id(schedule.id, before_id=ids[2]) == ids[1]


async def _finish(store: StoreBackend, writer: ResultWriting, outcomes: dict[str, str]) -> int:
    batch, ids = await queue(store, list(outcomes))
    now = datetime.now(UTC)
    for run_id, status in zip(ids, outcomes.values(), strict=True):
        assert await writer.mark_started(run_id, 1, now)
        assert await writer.finish(
            run_id,
            1,
            RunResult(status=RunStatus(status), score=100.0 if status == "passed" else 0.0),
            now,
            1.0,
        )
    return batch.id


async def test_history_verdicts(store: StoreBackend, writer: ResultWriting) -> None:
    first = await _finish(store, writer, {"a": "passed", "b": "failed"})
    await store.tests.upsert_many([http_test("a", tags=["v2"])])
    second = await _finish(store, writer, {"a": "failed", "b": "error"})
    third = await _finish(store, writer, {"a": "passed", "b": "cancelled"})
    assert await store.history.batch_verdicts(2) == [
        BatchVerdicts("a", second, 1, 0, 0.0),
        BatchVerdicts("a", third, 1, 1, 100.0),
        BatchVerdicts("b", first, 1, 0, 0.0),
        BatchVerdicts("b", second, 1, 0, 0.0),
    ]
    assert await store.history.batch_verdicts(1, test_name="a") == [BatchVerdicts("a", third, 1, 1, 100.0)]
    assert await store.history.batch_verdicts(0) == []
    assert await store.history.version_verdicts(10) == [
        VersionVerdicts("a", 2, 1, 1),
        VersionVerdicts("a", 1, 1, 0),
        VersionVerdicts("b", 1, 0, 1),
    ]
    assert await store.history.version_verdicts(1, test_name="a") == [VersionVerdicts("a", 2, 1, 0)]
