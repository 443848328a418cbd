"""Standard five-field cron, as APScheduler 3 triggers.

APScheduler's ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, while cron has Sunday = 0
(and 7), and it requires day-of-month AND day-of-week to match where cron fires when EITHER does (if
both are restricted). Both are translated here: weekdays become names, and a schedule restricting both
days becomes an OrTrigger of two CronTriggers.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")


class CronError(ValueError):
    """A cron expression that is not five valid fields."""


def _weekdays(field: str) -> str:
    """A cron day-of-week field (0–7, Sunday is 0 and 7; ranges, lists, steps) as APScheduler names."""
    if field == "*":
        return "*"
    for number, name in enumerate(_DAY_NAMES):
        field = re.sub(name, str(number), field, flags=re.IGNORECASE)
    days: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            first, last = 0, 6
        elif "-" in body:
            start, end = body.split("-", 1)
            first, last = int(start), int(end)
        else:
            first = last = int(body)
            if step_text:
                last = 6
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last and step >= 1):
            raise CronError(f"day of week {part!r}: use 0–7 (0 and 7 are Sunday)")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def cron_trigger(expression: str, timezone: tzinfo) -> BaseTrigger:
    """The trigger for a five-field cron ``expression`` in ``timezone`` (raises CronError)."""
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r}: a cron expression has five fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    try:
        names = _weekdays(weekday)
    except ValueError as exc:
        raise CronError(f"{expression!r}: {exc}") from None
    try:
        if day != "*" and weekday != "*":
            return OrTrigger([
                CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=timezone),
                CronTrigger(minute=minute, hour=hour, month=month, day_of_week=names, timezone=timezone),
            ])  # fmt: skip
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=names, timezone=timezone
        )
    except ValueError as exc:
        raise CronError(f"{expression!r}: {exc}") from None
