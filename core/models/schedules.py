"""Schedules: when a batch is queued by itself (cron or a fixed interval, in a time zone), and which
tests it runs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonValue

from callboard.core.models.batches import Batch
from callboard.core.models.names import NAME_SCHEMA, check_name
from callboard.core.models.schema_rules import CRON_PATTERN, any_of_non_empty, exactly_one_of
from callboard.core.models.selection import BatchOptions, Selection

FireOutcome = Literal["fired", "missed", "skipped_overlap", "manual"]


_TIMEZONES: list[JsonValue] = [*sorted(available_timezones())]


class ScheduleSpec(BatchOptions, Selection):
    """What a user gives to create a schedule: its timing, which tests, and the options of its batches."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                exactly_one_of("cron", "interval_s"),
                any_of_non_empty("ids", "names", "tags", flag="all"),
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200, json_schema_extra=NAME_SCHEMA)
    cron: str | None = Field(
        default=None,
        max_length=200,
        description="Five fields; weekday 0 and 7 = Sunday.",
        json_schema_extra={"pattern": CRON_PATTERN},
    )
    interval_s: float | None = Field(default=None, ge=1, le=366 * 86400)
    timezone: str = Field(default="UTC", max_length=200, json_schema_extra={"enum": _TIMEZONES})
    misfire_grace_s: float | None = Field(
        default=None, ge=0, description="Default: scheduler.misfire_grace_s."
    )
    overlap: Literal["skip", "allow"] = "skip"
    enabled: bool = True

    @field_validator("name", "cron")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # A newline here would forge lines in the daemon's log.
        return None if value is None else check_name(value, "this field")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        check_name(value, "the time zone")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris") from None
        return value

    @model_validator(mode="after")
    def _one_timing_and_a_selection(self) -> ScheduleSpec:
        if (self.cron is None) == (self.interval_s is None):
            raise ValueError("give exactly one of cron and interval_s")
        if not (self.ids or self.names or self.tags or self.all):
            raise ValueError("a schedule runs tests: give ids, names, tags or all")
        return self


class Schedule(ScheduleSpec):
    """A stored schedule and where it stands."""

    id: int
    created_at: datetime
    last_fire_at: datetime | None = None
    next_fire_at: datetime | None = None


class ScheduleFire(BaseModel):
    """One slot that came due, and what became of it."""

    slot: datetime
    outcome: FireOutcome
    batch_id: int | None = None
    recorded_at: datetime


class ScheduleView(BaseModel):
    """A schedule as listed: itself, its next fire time, and its last batch."""

    schedule: Schedule
    last_batch: Batch | None = None
    recent_fires: list[ScheduleFire] = Field(default_factory=list)


class ScheduleList(BaseModel):
    """``GET /v1/schedules``."""

    schedules: list[ScheduleView]
