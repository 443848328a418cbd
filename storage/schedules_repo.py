"""Schedules and the slots they fired (or missed): a slot is recorded before its batch is queued, and
its primary key makes it fire at most once, whatever restarts happen."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import aiosqlite

from callboard.core.models.schedules import FireOutcome, Schedule, ScheduleFire, ScheduleSpec
from callboard.storage.errors import NameTakenError
from callboard.storage.timestamps import now_text, to_text
from callboard.storage.transactions import WriteGate

_COLUMNS = (
    "id, name, cron, interval_s, timezone, selector, enabled, misfire_grace_s, overlap, last_fire_at,"
    " next_fire_at, created_at, priority, repeat"
)


def _schedule(row: Iterable[Any]) -> Schedule:
    values = dict(zip(_COLUMNS.split(", "), row, strict=True))
    selector = json.loads(values.pop("selector"))
    return Schedule.model_validate({**values, **selector, "enabled": bool(values["enabled"])})


class SchedulesRepo:
    """Stored schedules and their fires."""

    def __init__(self, reads: aiosqlite.Connection, gate: WriteGate) -> None:
        self._reads = reads
        self._gate = gate

    async def create(self, spec: ScheduleSpec) -> Schedule:
        """Store a new schedule; NameTakenError when the name is in use."""
        async with self._gate.transaction() as conn:
            cursor = await conn.execute("SELECT 1 FROM schedules WHERE name = ?", (spec.name,))
            if await cursor.fetchone() is not None:
                raise NameTakenError(f"a schedule named {spec.name!r} already exists")
            cursor = await conn.execute(
                "INSERT INTO schedules (name, cron, interval_s, timezone, selector, enabled, misfire_grace_s,"
                " overlap, created_at, priority, repeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (spec.name, spec.cron, spec.interval_s, spec.timezone, json.dumps(spec.as_dict()),
                 int(spec.enabled), spec.misfire_grace_s, spec.overlap, now_text(), spec.priority,
                 spec.repeat),
            )  # fmt: skip
            schedule_id = cursor.lastrowid
        created = await self.get(schedule_id)
        assert created is not None
        return created

    async def list(self) -> list[Schedule]:
        """Every schedule, by name."""
        async with self._reads.execute(f"SELECT {_COLUMNS} FROM schedules ORDER BY name") as cursor:
            return [_schedule(row) for row in await cursor.fetchall()]

    async def get(self, id_or_name: int | str | None) -> Schedule | None:
        """The schedule with this id (int) or name (str), or None."""
        column = "id" if isinstance(id_or_name, int) else "name"
        async with self._reads.execute(
            f"SELECT {_COLUMNS} FROM schedules WHERE {column} = ?", (id_or_name,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _schedule(row)

    async def delete(self, schedule_id: int) -> bool:
        """Delete a schedule (its batches stay); False when there is none."""
        async with self._gate.transaction() as conn:
            cursor = await conn.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))
            return cursor.rowcount == 1

    async def set_enabled(self, schedule_id: int, *, enabled: bool) -> bool:
        """Pause or resume a schedule; False when there is none."""
        async with self._gate.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE schedules SET enabled = ? WHERE id = ?", (int(enabled), schedule_id)
            )
            return cursor.rowcount == 1

    async def set_next(self, schedule_id: int, next_fire_at: datetime | None) -> None:
        """Remember when the schedule fires next (for display)."""
        async with self._gate.transaction() as conn:
            await conn.execute(
                "UPDATE schedules SET next_fire_at = ? WHERE id = ?",
                (None if next_fire_at is None else to_text(next_fire_at), schedule_id),
            )

    async def record(self, schedule_id: int, slot: datetime, outcome: FireOutcome) -> bool:
        """Record what became of a slot; False when that slot was already recorded (so it must not fire)."""
        async with self._gate.transaction() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO schedule_fires (schedule_id, slot, outcome, recorded_at)"
                " VALUES (?, ?, ?, ?)",
                (schedule_id, to_text(slot), outcome, now_text()),
            )
            if cursor.rowcount != 1:
                return False
            if outcome != "manual":
                await conn.execute(
                    "UPDATE schedules SET last_fire_at = max(coalesce(last_fire_at, ''), ?) WHERE id = ?",
                    (to_text(slot), schedule_id),
                )
            return True

    async def set_batch(self, schedule_id: int, slot: datetime, batch_id: int) -> None:
        """Link a fired slot to the batch it queued."""
        async with self._gate.transaction() as conn:
            await conn.execute(
                "UPDATE schedule_fires SET batch_id = ? WHERE schedule_id = ? AND slot = ?",
                (batch_id, schedule_id, to_text(slot)),
            )

    async def fires(self, schedule_id: int, limit: int = 20) -> builtins.list[ScheduleFire]:
        """The schedule's most recent slots, newest first."""
        async with self._reads.execute(
            "SELECT slot, outcome, batch_id, recorded_at FROM schedule_fires WHERE schedule_id = ?"
            " ORDER BY slot DESC LIMIT ?",
            (schedule_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [ScheduleFire(slot=s, outcome=o, batch_id=b, recorded_at=r) for s, o, b, r in rows]

    async def last_batch_id(self, schedule_id: int, before_id: int | None = None) -> int | None:
        """The newest batch the schedule queued (before batch ``before_id`` when given)."""
        async with self._reads.execute(
            "SELECT MAX(id) FROM batches WHERE schedule_id = ? AND id < ?",
            (schedule_id, before_id or 2**63 - 1),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])
