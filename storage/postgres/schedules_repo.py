"""Schedules and their fired slots on PostgreSQL; the slot's primary key makes it fire at most once,
whichever process records it first."""

from __future__ import annotations

import builtins
import json
from datetime import datetime

from callboard.core.models.schedules import FireOutcome, Schedule, ScheduleFire, ScheduleSpec
from callboard.storage.errors import NameTakenError
from callboard.storage.postgres.access import PgAccess
from callboard.storage.schedules_repo import _COLUMNS, _schedule
from callboard.storage.timestamps import now_text, to_text


class PgSchedulesRepo:
    """Stored schedules and their fires."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def create(self, spec: ScheduleSpec) -> Schedule:
        """Store a new schedule; NameTakenError when the name is in use."""
        async with self._access.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO schedules (name, cron, interval_s, timezone, selector, enabled, misfire_grace_s,"
                " overlap, created_at, priority, repeat) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (name) DO NOTHING RETURNING id",
                (spec.name, spec.cron, spec.interval_s, spec.timezone, json.dumps(spec.as_dict()),
                 int(spec.enabled), spec.misfire_grace_s, spec.overlap, now_text(), spec.priority,
                 spec.repeat),
            )  # fmt: skip
            row = await cursor.fetchone()
        if row is None:
            raise NameTakenError(f"a schedule named {spec.name!r} already exists")
        created = await self.get(int(row[0]))
        assert created is not None
        return created

    async def list(self) -> list[Schedule]:
        """Every schedule, by name."""
        rows = await self._access.fetchall(f'SELECT {_COLUMNS} FROM schedules ORDER BY name COLLATE "C"')
        return [_schedule(row) for row in rows]

    async def get(self, id_or_name: int | str | None) -> Schedule | None:
        """The schedule with this id (int) or name (str), or None."""
        column = "id" if isinstance(id_or_name, int) else "name"
        row = await self._access.fetchone(
            f"SELECT {_COLUMNS} FROM schedules WHERE {column} = %s", (id_or_name,)
        )
        return None if row is None else _schedule(row)

    async def delete(self, schedule_id: int) -> bool:
        """Delete a schedule (its batches stay); False when there is none."""
        async with self._access.transaction() as conn:
            cursor = await conn.execute("DELETE FROM schedules WHERE id = %s", (schedule_id,))
            return cursor.rowcount == 1

    async def set_enabled(self, schedule_id: int, *, enabled: bool) -> bool:
        """Pause or resume a schedule; False when there is none."""
        async with self._access.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE schedules SET enabled = %s WHERE id = %s", (int(enabled), schedule_id)
            )
            return cursor.rowcount == 1

    async def set_next(self, schedule_id: int, next_fire_at: datetime | None) -> None:
        """Remember when the schedule fires next (for display)."""
        async with self._access.transaction() as conn:
            await conn.execute(
                "UPDATE schedules SET next_fire_at = %s WHERE id = %s",
                (None if next_fire_at is None else to_text(next_fire_at), schedule_id),
            )

    async def record(self, schedule_id: int, slot: datetime, outcome: FireOutcome) -> bool:
        """Record what became of a slot; False when that slot was already recorded (so it must not fire)."""
        async with self._access.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO schedule_fires (schedule_id, slot, outcome, recorded_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (schedule_id, to_text(slot), outcome, now_text()),
            )
            if cursor.rowcount != 1:
                return False
            if outcome != "manual":
                await conn.execute(
                    "UPDATE schedules SET last_fire_at = GREATEST(COALESCE(last_fire_at, ''), %s)"
                    " WHERE id = %s",
                    (to_text(slot), schedule_id),
                )
            return True

    async def set_batch(self, schedule_id: int, slot: datetime, batch_id: int) -> None:
        """Link a fired slot to the batch it queued."""
        async with self._access.transaction() as conn:
            await conn.execute(
                "UPDATE schedule_fires SET batch_id = %s WHERE schedule_id = %s AND slot = %s",
                (batch_id, schedule_id, to_text(slot)),
            )

    async def fires(self, schedule_id: int, limit: int = 20) -> builtins.list[ScheduleFire]:
        """The schedule's most recent slots, newest first."""
        rows = await self._access.fetchall(
            "SELECT slot, outcome, batch_id, recorded_at FROM schedule_fires WHERE schedule_id = %s"
            " ORDER BY slot DESC LIMIT %s",
            (schedule_id, limit),
        )
        return [ScheduleFire(slot=s, outcome=o, batch_id=b, recorded_at=r) for s, o, b, r in rows]

    async def last_batch_id(self, schedule_id: int, before_id: int | None = None) -> int | None:
        """The newest batch the schedule queued (before batch ``before_id`` when given)."""
        row = await self._access.fetchone(
            "SELECT MAX(id) FROM batches WHERE schedule_id = %s AND id < %s",
            (schedule_id, before_id or 2**63 - 1),
        )
        return None if row is None or row[0] is None else int(row[0])
