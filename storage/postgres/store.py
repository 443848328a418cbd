"""The PostgreSQL store: a connection pool and one repository per table, like ``storage.Store``."""

from __future__ import annotations

from types import TracebackType

import psycopg

from callboard.storage.errors import StoreError
from callboard.storage.postgres.access import PgAccess, outages_as_store_errors
from callboard.storage.postgres.batches_repo import PgBatchesRepo
from callboard.storage.postgres.connection import DEFAULT_POOL_SIZE, describe, open_pool
from callboard.storage.postgres.history_repo import PgHistoryRepo
from callboard.storage.postgres.migrations import migrate
from callboard.storage.postgres.recovery import PgRecovery
from callboard.storage.postgres.retention import PgRetention
from callboard.storage.postgres.runs_repo import PgRunsRepo
from callboard.storage.postgres.schedules_repo import PgSchedulesRepo
from callboard.storage.postgres.tests_repo import PgTestsRepo
from callboard.storage.postgres.writer import PgResultWriter


class PgStore:
    """A migrated PostgreSQL database behind a pool (storage.interface.StoreBackend)."""

    def __init__(self, access: PgAccess) -> None:
        self.where = access.where  # the database, without its password: for messages
        self.tests = PgTestsRepo(access)
        self.batches = PgBatchesRepo(access)
        self.runs = PgRunsRepo(access)
        self.history = PgHistoryRepo(access)
        self.schedules = PgSchedulesRepo(access)
        self.recovery = PgRecovery(access)
        self.retention = PgRetention(access)
        self._access = access

    @classmethod
    async def open(cls, url: str, pool_size: int = DEFAULT_POOL_SIZE) -> PgStore:
        """Connect to ``url`` and migrate its schema; StoreError (never showing the password) when the
        server cannot be reached, the migration fails or the schema is newer than this callboard."""
        where = describe(url)
        pool = await open_pool(url, max_size=pool_size)
        try:
            with outages_as_store_errors(where):
                async with pool.connection() as conn:
                    await migrate(conn)
        except psycopg.Error as exc:  # e.g. no right to create tables: the daemon cannot start
            await pool.close()
            raise StoreError(f"cannot use {where}: {exc}") from exc
        except BaseException:
            await pool.close()
            raise
        return cls(PgAccess(pool, where))

    async def start_writer(self, tick_ms: float, busy_timeout_ms: int) -> PgResultWriter:
        """The result writer on this store's pool (``busy_timeout_ms`` is SQLite's and unused here)."""
        del busy_timeout_ms
        return await PgResultWriter.start(self._access, tick_ms)

    async def close(self) -> None:
        """Close the pool's connections."""
        await self._access.pool.close()

    async def __aenter__(self) -> PgStore:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()
