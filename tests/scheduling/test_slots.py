"""Cron semantics and the misfire rules, with a fake clock (no waiting on real minutes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from callboard.core.scheduling.cron import CronError, cron_trigger
from callboard.core.scheduling.slots import plan_slots

PARIS = ZoneInfo("Europe/Paris")
SATURDAY_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=PARIS)


def _fires(expression: str, count: int = 4, start: datetime = SATURDAY_NOON) -> list[datetime]:
    trigger = cron_trigger(expression, PARIS)
    fires: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        fires.append(fire)
        previous, now = fire, fire + timedelta(microseconds=1)
    return fires


@pytest.mark.parametrize("sunday", ["0", "7"])
def test_weekday_0_and_7_are_sunday(sunday: str) -> None:
    fires = _fires(f"0 9 * * {sunday}")
    assert [fire.strftime("%a %H:%M") for fire in fires] == ["Sun 09:00"] * 4
    assert fires[0].date().isoformat() == "2026-11-22"


def test_weekday_ranges_lists_and_steps() -> None:
    assert [f.strftime("%a") for f in _fires("30 8 * * 1-5", 5)] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert [f.strftime("%a") for f in _fires("0 9 * * 5-7", 3)] == ["Sun", "Fri", "Sat"]
    assert [f.strftime("%a") for f in _fires("0 9 * * */3", 3)] == ["Sun", "Wed", "Sat"]
    assert [f.strftime("%a") for f in _fires("0 9 * * MON-wed,sun", 4)] == ["Sun", "Mon", "Tue", "Wed"]


def test_day_of_month_or_day_of_week_as_cron_does() -> None:
    # Both restricted: the 1st of the month OR any Sunday.
    fires = _fires("0 0 1 * 0", 4)
    assert [f.strftime("%a %d") for f in fires] == ["Sun 22", "Sun 29", "Tue 01", "Sun 06"]


def test_time_zone_is_honoured() -> None:
    fire = _fires("0 2 * * *", 1)[0]
    assert fire.astimezone(UTC).hour == 1  # 02:00 in Paris in winter


@pytest.mark.parametrize("bad", ["0 2 * *", "61 * * * *", "0 2 * * 8", "0 2 * * mon-", "x y z w v"])
def test_bad_cron_is_refused(bad: str) -> None:
    with pytest.raises(CronError):
        cron_trigger(bad, PARIS)


def test_a_slot_missed_within_the_grace_runs_once_the_rest_are_recorded() -> None:
    trigger = cron_trigger("0 * * * *", PARIS)  # hourly
    last = datetime(2026, 11, 21, 8, 0, tzinfo=PARIS)
    now = datetime(2026, 11, 21, 12, 3, tzinfo=PARIS)
    plan = plan_slots(trigger, last, now, grace_s=300)
    assert plan.catch_up == datetime(2026, 11, 21, 12, 0, tzinfo=PARIS)
    assert [slot.hour for slot in plan.missed] == [9, 10, 11]
    assert plan.next_slot == datetime(2026, 11, 21, 13, 0, tzinfo=PARIS)


def test_a_slot_missed_beyond_the_grace_is_only_recorded() -> None:
    trigger = cron_trigger("0 * * * *", PARIS)
    last = datetime(2026, 11, 21, 11, 0, tzinfo=PARIS)
    plan = plan_slots(trigger, last, datetime(2026, 11, 21, 12, 10, tzinfo=PARIS), grace_s=300)
    assert plan.catch_up is None and [slot.hour for slot in plan.missed] == [12]


def test_nothing_due_and_the_slot_just_fired_is_not_due_again() -> None:
    trigger = cron_trigger("0 * * * *", PARIS)
    slot = datetime(2026, 11, 21, 12, 0, tzinfo=PARIS)
    plan = plan_slots(trigger, slot, slot + timedelta(seconds=1), grace_s=300)
    assert plan.catch_up is None and plan.missed == [] and plan.next_slot == slot + timedelta(hours=1)


def test_interval_slots_stay_aligned_and_long_outages_are_bounded() -> None:
    created = datetime(2026, 11, 21, 0, 0, 0, tzinfo=UTC)
    trigger = IntervalTrigger(seconds=10, start_date=created, timezone=UTC)
    now = created + timedelta(days=1, seconds=5)
    plan = plan_slots(trigger, created, now, grace_s=30, limit=100)
    assert plan.catch_up == created + timedelta(days=1)
    assert len(plan.missed) == 100 and plan.missed[-1] == created + timedelta(days=1, seconds=-10)
    assert plan.next_slot == created + timedelta(days=1, seconds=10)
