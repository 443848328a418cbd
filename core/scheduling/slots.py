"""Which slots of a schedule are due, given when it last fired and what time it is now — pure, so the
misfire rules are tested with any clock.

A slot that came due while the daemon was down is fired once on start when it is within the misfire
grace (only the newest such slot: catching up never means a burst); the others are recorded as missed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

# Slots are computed strictly after the last one; a microsecond moves past a slot a trigger would
# otherwise return again (triggers return the first fire time at or after "now").
_TICK = timedelta(microseconds=1)
# A schedule down for long with a short interval has many missed slots: only the newest are recorded.
MAX_MISSED_RECORDED = 100


@dataclass(frozen=True)
class SlotPlan:
    """What to do now: fire one overdue slot (catch-up), record missed ones, wait for the next."""

    catch_up: datetime | None
    missed: list[datetime] = field(default_factory=list)
    next_slot: datetime | None = None


def plan_slots(
    trigger: BaseTrigger, after: datetime, now: datetime, grace_s: float, limit: int = MAX_MISSED_RECORDED
) -> SlotPlan:
    """The slots of ``trigger`` strictly after ``after`` up to ``now``, and the first one after ``now``."""
    due: deque[datetime] = deque(maxlen=limit + 1)
    slot = trigger.get_next_fire_time(None, after + _TICK)
    while slot is not None and slot <= now:
        due.append(slot)
        slot = trigger.get_next_fire_time(slot, slot + _TICK)
    catch_up = None
    if due and (now - due[-1]).total_seconds() <= grace_s:
        catch_up = due.pop()
    missed = list(due)[-limit:] if limit else []
    return SlotPlan(catch_up=catch_up, missed=missed, next_slot=slot)
