"""The API's events on a shared PostgreSQL store, read from the outbox (``storage.postgres.outbox``).

Every API daemon tails the same outbox in the same commit-safe order, so they all serve the same events
with the same ids: an SSE client's ``Last-Event-ID`` from one daemon resumes on any other. The tail wakes
on NOTIFY (and polls now and then, and soon after a read held back by an open transaction), reads a page,
turns it into API events (``outbox_translation``) and hands them to live subscribers; every couple of
seconds it also sends progress for batches with runs going (``Translator.heartbeat``). A subscriber
that resumes from an id replays from the database, then joins the live stream where its replay ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from callboard.core.cluster.outbox_translation import AFTER, Placed, Translator, place
from callboard.core.engine.batch_book import HEARTBEAT_S
from callboard.core.engine.events import EventFilter, EventsLost
from callboard.core.models.events import EventBase
from callboard.storage.postgres import outbox
from callboard.storage.postgres.access import is_outage
from callboard.storage.postgres.connection import connect

log = logging.getLogger(__name__)

# How often the tail reads with no wake-up at all (a NOTIFY lost with a dropped connection).
POLL_S = 5.0
# How soon it reads again when committed events wait behind a transaction still open.
HELD_BACK_S = 0.05
# How long the tail lets a burst of commits gather after a wake-up before it reads.
GATHER_S = 0.01
# How long it waits before reconnecting after the store failed.
RETRY_S = 1.0
PAGE_SIZE = 1000
SUBSCRIBER_QUEUE = 10_000


class OutboxEvents:
    """The outbox as an ``EventFeed`` (``core.engine.control``) for one API daemon."""

    def __init__(
        self,
        url: str,
        pool: AsyncConnectionPool[AsyncConnection],
        *,
        progress_interval_s: float = 0.25,
    ) -> None:
        self._url = url
        self._pool = pool
        self._interval = progress_interval_s
        self._position = outbox.START
        self._held_back = False
        self._last_beat = 0.0
        self._translator = Translator(progress_interval_s)
        self._subscribers: set[asyncio.Queue[Placed | None]] = set()
        self._writes: set[asyncio.Task[None]] = set()
        self._listener: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def last_id(self) -> int:
        """The outbox id of the newest event read, 0 before the first."""
        return self._position.id

    @property
    def held_back(self) -> bool:
        """Whether, at the last read, committed events waited behind a transaction still open (they
        come once it ends; a transaction held open for long holds every daemon's events back)."""
        return self._held_back

    async def start(self) -> None:
        """Start tailing the outbox from its current end (raises StoreError when the store cannot be
        reached)."""
        self._listener = await self._listen()
        async with self._pool.connection() as conn:
            self._position = await outbox.end(conn)
        self._translator = Translator(self._interval, self._position)
        self._task = asyncio.create_task(self._tail(), name="outbox-events")

    async def close(self) -> None:
        """Stop tailing, finish pending writes and end every subscription."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        await self._drop_listener()
        for queue in list(self._subscribers):
            queue.put_nowait(None)
        self._subscribers.clear()

    def publish(self, event: EventBase) -> EventBase:
        """Write ``event`` to the outbox (committed shortly, in a transaction of its own); every daemon's
        subscribers get it from there, with its outbox id. Returns it as given: the id comes with the
        commit."""
        task = asyncio.get_running_loop().create_task(self._write(event))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return event

    async def subscribe(
        self, last_id: int | None = None, wants: EventFilter | None = None
    ) -> AsyncGenerator[EventBase, None]:
        """Events as they come (only those ``wants`` lets through); with ``last_id``, first those after
        it, read from the database (so any daemon resumes any client). Raises EventsLost when events
        after it have been pruned; ends when the subscriber falls too far behind or the store fails
        (resume from the last id seen)."""
        start: outbox.Position | None = None
        if last_id is not None:
            try:
                async with self._pool.connection() as conn:
                    start = await outbox.resumable(conn, last_id)
            except Exception as exc:
                if is_outage(exc):
                    return
                raise
            if start is None:
                raise EventsLost(f"events after {last_id} are no longer kept")
        queue: asyncio.Queue[Placed | None] = asyncio.Queue(SUBSCRIBER_QUEUE + 1)
        # Registered before the replay: whatever the tail reads from now on is queued, and the replay
        # reads at least as far as the tail had got.
        self._subscribers.add(queue)
        try:
            # Where the replay has got: the client has everything up to there, progress included.
            caught_up = None if start is None else place(start, AFTER)
            if start is not None and last_id is not None:
                translator = Translator(self._interval, start)
                position = start
                while position < self._position:
                    try:
                        page, placed = await self._read_page(translator, position)
                    except Exception as exc:
                        if is_outage(exc):
                            return
                        raise
                    if not page.events:
                        break
                    for replayed in placed:
                        if wants is None or wants(replayed.event):
                            yield replayed.event
                    position = page.events[-1].position
                    caught_up = place(position, AFTER)
            while True:
                queued = await queue.get()
                if queued is None:
                    return
                if caught_up is not None and queued.place <= caught_up:
                    continue  # the replay gave it already
                if wants is None or wants(queued.event):
                    yield queued.event
        finally:
            self._subscribers.discard(queue)

    async def _tail(self) -> None:
        while True:
            try:
                if self._listener is None:
                    self._listener = await self._listen()
                wait_s = await self._read_all()
                if time.monotonic() - self._last_beat >= HEARTBEAT_S:
                    self._last_beat = time.monotonic()
                    async with self._pool.connection() as conn:
                        self._hand_out(await self._translator.heartbeat(conn))
                async for _ in self._listener.notifies(timeout=min(wait_s, HEARTBEAT_S), stop_after=1):
                    pass
                # Commits come in bursts (each worker's group commit notifies): a short pause and one
                # read for the whole burst, instead of a read per commit.
                await asyncio.sleep(GATHER_S)
                async for _ in self._listener.notifies(timeout=0):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The store went away or answered oddly: the daemon lives on and reads again later.
                log.warning("reading the events outbox failed (%s); retrying", type(exc).__name__)
                await self._drop_listener()
                await asyncio.sleep(RETRY_S)

    async def _read_all(self) -> float:
        """Read and hand out every final event; returns how long to wait for the next wake-up."""
        while True:
            page, placed = await self._read_page(self._translator, self._position)
            if page.events:
                self._position = page.events[-1].position
                self._hand_out(placed)
            self._held_back = page.held_back
            if len(page.events) < PAGE_SIZE:
                return HELD_BACK_S if page.held_back else POLL_S

    async def _read_page(
        self, translator: Translator, after: outbox.Position
    ) -> tuple[outbox.Page, list[Placed]]:
        """The page after ``after`` and its API events."""
        async with self._pool.connection() as conn:
            page = await outbox.read_after(conn, after, PAGE_SIZE)
            try:
                return page, await translator.page(conn, page.events)
            except Exception as exc:
                if is_outage(exc):
                    raise
                # Not the store's fault, so reading again would fail again: the page is left out rather
                # than the stream stopped for good.
                log.exception("could not turn outbox events into the API's events; left out")
                return page, []

    def _hand_out(self, placed: list[Placed]) -> None:
        for queue in list(self._subscribers):
            for item in placed:
                if queue.qsize() >= SUBSCRIBER_QUEUE:
                    # Too far behind: cut off (the spare slot holds the end); it resumes from its last id.
                    self._subscribers.discard(queue)
                    queue.put_nowait(None)
                    break
                queue.put_nowait(item)

    async def _write(self, event: EventBase) -> None:
        kind = str(getattr(event, "type", ""))
        payload = event.model_dump(mode="json", exclude={"id", "at", "type"})
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await outbox.append(conn, kind, payload)
        except Exception as exc:
            # A lost notice (e.g. tests.changed) is not worth failing the change it reports.
            log.warning("could not write a %s event to the outbox (%s)", kind, type(exc).__name__)

    async def _listen(self) -> AsyncConnection:
        listener = await connect(self._url)
        try:
            await outbox.listen(listener)
        except BaseException:
            await listener.close()
            raise
        return listener

    async def _drop_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None
