"""The Store: the daemon's handle on the database, with one repository per table."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from pathlib import Path
from types import TracebackType

import aiosqlite

from callboard.storage.batches_repo import BatchesRepo
from callboard.storage.connection import DEFAULT_BUSY_TIMEOUT_MS, open_connection
from callboard.storage.errors import StoreError
from callboard.storage.history_repo import HistoryRepo
from callboard.storage.migrations import migrate
from callboard.storage.recovery import interrupted_external_ids, requeue_interrupted
from callboard.storage.retention import PruneResult, prune
from callboard.storage.runs_repo import RunsRepo
from callboard.storage.schedules_repo import SchedulesRepo
from callboard.storage.tests_repo import TestsRepo
from callboard.storage.transactions import WriteGate
from callboard.storage.writer import ResultWriter


class Store:
    """Two connections to one WAL database: writes (one transaction at a time) and reads (which WAL
    lets proceed while a write is under way). Repositories: ``tests``, ``batches``, ``runs``,
    ``history``, ``schedules``."""

    def __init__(self, path: Path, gate: WriteGate, reads: aiosqlite.Connection) -> None:
        self.path = path
        self.gate = gate
        self.tests = TestsRepo(reads, gate)
        self.batches = BatchesRepo(reads, gate)
        self.runs = RunsRepo(reads)
        self.history = HistoryRepo(reads)
        self.schedules = SchedulesRepo(reads, gate)
        self.recovery = _Recovery(self)
        self.retention = _Retention(self)
        self._reads = reads

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Store:
        """Open (creating it and its folder if needed) and migrate the database at ``path``.

        Raises SchemaTooNewError for a database from a newer callboard, StoreLockedError when another
        process holds the write lock longer than ``busy_timeout_ms``.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        sidecars = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        existing = [sidecar for sidecar in sidecars if sidecar.exists()]
        try:
            writes = await open_connection(path, busy_timeout_ms)
            try:
                await migrate(writes)
                await _probe_write(writes)
                reads = await open_connection(path, busy_timeout_ms, query_only=True)
            except BaseException:
                await writes.close()
                raise
        except sqlite3.OperationalError as exc:
            # A read-only database, a full disk, a file that is no database: say so, and leave no
            # empty WAL and index behind for the next start to trip over.
            _remove_empty_sidecars([sidecar for sidecar in sidecars if sidecar not in existing])
            raise StoreError(f"cannot open database {path}: {exc}") from None
        return cls(path, WriteGate(writes, path, busy_timeout_ms), reads)

    async def start_writer(self, tick_ms: float, busy_timeout_ms: int) -> ResultWriter:
        """The group-commit result writer on this database (its own connection, in its own thread)."""
        return await ResultWriter.start(self.path, tick_ms=tick_ms, busy_timeout_ms=busy_timeout_ms)

    async def close(self) -> None:
        """Close both connections (waiting for a write under way to finish)."""
        await self.gate.close()
        await self._reads.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()


class _Recovery:
    """storage.interface.Recovery on this store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def interrupted_external_ids(self) -> list[str]:
        return await interrupted_external_ids(self._store)

    async def requeue_interrupted(self) -> tuple[int, int]:
        return await requeue_interrupted(self._store)


class _Retention:
    """storage.interface.Retention on this store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def prune(self, older_than: datetime | None, max_runs: int | None) -> PruneResult:
        return await prune(self._store, older_than, max_runs)


def _remove_empty_sidecars(created: list[Path]) -> None:
    """Remove a -wal/-shm pair this failed open created, when the WAL holds nothing."""
    wal = next((p for p in created if p.name.endswith("-wal")), None)
    if wal is not None and wal.exists() and wal.stat().st_size > 0:
        return
    for sidecar in created:
        with contextlib.suppress(OSError):
            sidecar.unlink()


async def _probe_write(conn: aiosqlite.Connection) -> None:
    """Fail now, at open, when the database cannot be written (a read-only file or folder), rather
    than at the first result. Writing the schema version back unchanged writes one page."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    await conn.execute(f"PRAGMA user_version = {version}")
    if conn.in_transaction:
        await conn.commit()
