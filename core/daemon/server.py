"""Run the daemon: lock the state directory, open the store, start the engine, serve API v1 on the
socket until SIGTERM/SIGINT, then shut down gracefully (running runs finish or go back to the queue)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Generator
from contextlib import AbstractAsyncContextManager
from importlib.metadata import version

import uvicorn

from callboard.core.api.app import create_app
from callboard.core.api.state import DaemonState
from callboard.core.config import Settings
from callboard.core.daemon.lock import AlreadyRunning, DaemonLock
from callboard.core.daemon.logs import configure_logging
from callboard.core.daemon.notifications import notify_finished_batches
from callboard.core.daemon.private_files import make_daemon_private
from callboard.core.daemon.socket_bind import BoundSocket, SocketError, bind_socket
from callboard.core.engine.control import EngineControl
from callboard.core.engine.stack import running_engine
from callboard.core.execution import event_loop
from callboard.core.execution.collector import tune_collector
from callboard.core.notify.notifier import Notifier
from callboard.core.paths import DaemonPaths
from callboard.core.scheduling.service import ScheduleService
from callboard.core.services.catalogue import TestCatalogue
from callboard.core.services.heap import settle_heap
from callboard.core.services.housekeeping import schedule_retention
from callboard.storage.errors import StoreError
from callboard.storage.interface import StoreBackend
from callboard.storage.open import opened_store

log = logging.getLogger("callboard.daemon")
# Streams end as soon as shutdown begins; this bounds what is left (a slow client mid-response).
_GRACEFUL_S = 3  # whole seconds: uvicorn types it as an int


class _Server(uvicorn.Server):
    """uvicorn's server, with the daemon's own signal handling.

    uvicorn re-raises a captured SIGTERM once it has stopped serving, which would kill the process
    before the engine has put its unfinished runs back in the queue; the daemon handles signals itself.
    """

    def __init__(self, config: uvicorn.Config, daemon: DaemonState) -> None:
        super().__init__(config)
        self.daemon = daemon

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, sig)
        try:
            yield
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    def stop(self, sig: int | None = None) -> None:
        """Begin a graceful shutdown (a second signal forces the server down)."""
        if sig is not None:
            log.info("received %s, shutting down", signal.Signals(sig).name)
        self.daemon.stopping.set()
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True


async def serve_daemon(settings: Settings) -> None:
    """Run the daemon for ``settings.state_dir`` until it is told to stop.

    Raises AlreadyRunning when another daemon has the state directory, SocketError or StoreError when
    it cannot start; nothing is left behind in that case.
    """
    paths = DaemonPaths.of(settings)
    with DaemonLock(paths.lock):
        url = settings.store.url.get_secret_value() if settings.store.url is not None else None
        async with opened_store(settings.db_path, url, settings.store.busy_timeout_ms) as store:
            bound = bind_socket(paths.socket)
            try:
                if url is None:
                    async with running_engine(settings, store) as engine:
                        schedules = ScheduleService(store, engine, settings.scheduler.misfire_grace_s)
                        await schedules.start()
                        schedule_retention(schedules, store, settings.retention)
                        await _serve(settings, paths, store, engine, schedules, bound, None)
                else:
                    # Imported only on PostgreSQL: psycopg (the extra callboard[postgres]) and the
                    # worker stay unloaded on SQLite.
                    from callboard.core.daemon.shared_store import running_cluster, shared_roles

                    async with running_cluster(settings, store, url) as cluster:
                        schedules = ScheduleService(store, cluster, settings.scheduler.misfire_grace_s)

                        def roles(notifier: Notifier) -> AbstractAsyncContextManager[None]:
                            return shared_roles(settings, url, store, cluster, schedules, notifier)

                        await _serve(settings, paths, store, cluster, schedules, bound, roles)
            finally:
                bound.remove()
                with contextlib.suppress(OSError):
                    if paths.read_pid() == os.getpid():
                        paths.pid.unlink()
    log.info("daemon %d stopped", os.getpid())


async def _serve(
    settings: Settings,
    paths: DaemonPaths,
    store: StoreBackend,
    engine: EngineControl,
    schedules: ScheduleService,
    bound: BoundSocket,
    shared_roles: Callable[[Notifier], AbstractAsyncContextManager[None]] | None,
) -> None:
    """Serve the API until told to stop. On the SQLite store this daemon notifies finished batches (its
    scheduler already runs); on a shared store, ``shared_roles`` competes for that work with the other
    daemons while the API is served."""
    await store.tests.list()  # the catalogue, loaded before the heap is settled
    settle_heap()
    daemon = DaemonState(
        settings=settings,
        paths=paths,
        store=store,
        engine=engine,
        schedules=schedules,
        catalogue=TestCatalogue(store, engine.events, settings.imports),
    )
    config = uvicorn.Config(
        create_app(daemon),
        lifespan="off",
        log_config=None,
        timeout_graceful_shutdown=_GRACEFUL_S,
        timeout_keep_alive=30,
    )
    server = _Server(config, daemon)
    paths.pid.write_text(f"{os.getpid()}\n")
    log.info(
        "callboard %s daemon %d serving on %s (state %s)",
        version("callboard"),
        os.getpid(),
        paths.socket,
        paths.state_dir,
    )
    notifier = Notifier(settings.notify)
    try:
        if shared_roles is None:
            notifying = asyncio.create_task(notify_finished_batches(engine.events, store, notifier))
            try:
                await server.serve(sockets=[bound.sock])
            finally:
                schedules.shutdown()
                notifying.cancel()
        else:
            async with shared_roles(notifier):
                await server.serve(sockets=[bound.sock])
    finally:
        await notifier.aclose()
    log.info("stopped serving; finishing running runs")


def run_daemon(settings: Settings, *, to_stderr: bool) -> int:
    """Run the daemon in this process until stopped; returns the exit status (1 when it cannot start).

    With ``to_stderr`` the log also goes to stderr (the foreground); a daemon started in the background
    logs only to its file.
    """
    paths = DaemonPaths.of(settings)
    try:
        make_daemon_private(settings, paths)
        configure_logging(settings, paths, to_stderr=to_stderr)
    except OSError as exc:
        print(f"callboard daemon: cannot start: {exc}", file=sys.stderr)
        return 1
    tune_collector()
    try:
        event_loop.run(serve_daemon(settings), use_uvloop=settings.daemon.uvloop)
    except (AlreadyRunning, SocketError, StoreError, OSError) as exc:
        log.error("cannot start: %s", exc)
        if not to_stderr:
            print(f"callboard daemon: {exc}", file=sys.stderr)
        return 1
    return 0
