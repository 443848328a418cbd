"""One holder at a time, across processes and machines: a session-level advisory lock per role
(``scheduler``, ``retention``, ``batch-finishing``) on a connection of its own.

PostgreSQL releases a session lock when its session ends, so when the holder dies (kill -9, power loss,
a lost network once TCP keepalives give up) another process's next attempt takes the role over. The
holder checks its connection every ``poll_s``; when it fails, the role's work is cancelled and the
process goes back to trying. Between the server ending the session and the old holder's next check both
may briefly act, so work that must happen once is also fenced in the database (a schedule slot fires
once by ``schedule_fires``' primary key).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable

from psycopg import AsyncConnection, Error
from psycopg.conninfo import make_conninfo

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 2.0
# The server notices a vanished holder within about idle + interval * count seconds (libpq's options
# on the client side, the session's settings on the server side).
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
)


def lock_key(role: str) -> int:
    """The advisory lock key of ``role``: a stable signed 64-bit number."""
    digest = hashlib.sha256(f"callboard:singleton:{role}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Singleton:
    """The advisory lock of one role, held on a dedicated connection while ``held`` is True."""

    def __init__(self, url: str, role: str, poll_s: float = DEFAULT_POLL_S) -> None:
        self.url = url
        self.role = role
        self.poll_s = poll_s
        self._key = lock_key(role)
        self._conn: AsyncConnection | None = None
        self.held = False

    async def try_acquire(self) -> bool:
        """Take the role if nobody holds it; True when this process holds it now."""
        if self.held and await self.still_held():
            return True
        try:
            if self._conn is None or self._conn.closed:
                conninfo = make_conninfo(self.url, **_KEEPALIVES)
                self._conn = await AsyncConnection.connect(conninfo, autocommit=True)
                for statement in _SERVER_KEEPALIVES:
                    await self._conn.execute(statement)
            cursor = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
            row = await cursor.fetchone()
        except Error as exc:
            log.warning("singleton %s: cannot reach the database: %s", self.role, exc)
            await self._drop()
            return False
        self.held = bool(row and row[0])
        return self.held

    async def still_held(self) -> bool:
        """Whether the lock's session is alive (a session lock lasts as long as its session)."""
        if not self.held or self._conn is None:
            return False
        try:
            await self._conn.execute("SELECT 1")
        except Error:
            log.warning("singleton %s: lost the database session, and with it the role", self.role)
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        """Give the role up: unlock at once (a closed session's lock goes only when its backend has
        noticed), then close the session."""
        if self.held and self._conn is not None:
            with contextlib.suppress(Error):
                await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        await self._drop()

    async def run(self, work: Callable[[], Awaitable[None]]) -> None:
        """For as long as it is awaited: take the role when it is free, run ``work`` while holding it,
        cancel ``work`` when the role is lost and try again. ``work`` returning ends the run."""
        try:
            while True:
                if not await self.try_acquire():
                    await asyncio.sleep(self.poll_s)
                    continue
                log.info("singleton %s: this process holds the role", self.role)
                task = asyncio.ensure_future(work())
                while await self.still_held():
                    done, _ = await asyncio.wait({task}, timeout=self.poll_s)
                    if done:
                        task.result()
                        return
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await self.release()

    async def _drop(self) -> None:
        self.held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Error):
                await conn.close()
