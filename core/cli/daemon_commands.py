"""``callboard daemon``: run it in the foreground, start it in the background, stop it, check it."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import click

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.tether import process_alive
from callboard.core.cli.times import uptime
from callboard.core.client import CallboardClient, DaemonStartError, DaemonUnavailable, start_daemon
from callboard.core.models.api import Health
from callboard.core.paths import DaemonPaths, socket_answers

EXIT_NOT_RUNNING = 3  # as `systemctl status` says of a unit that is not running
_STOP_POLL_S = 0.1


async def _health(paths: DaemonPaths) -> Health | None:
    async with CallboardClient(paths.socket, timeout_s=5.0) as client:
        try:
            return await client.health()
        except DaemonUnavailable:
            return None


@click.group("daemon", invoke_without_command=True)
@click.option("--detach", is_flag=True, help="Start it in the background and return once it answers.")
@click.option("--detached-child", is_flag=True, hidden=True)
@click.option(
    "--no-worker",
    is_flag=True,
    help="On a PostgreSQL store: serve the API only; `callboard worker`s run the tests (daemon.worker).",
)
@click.pass_context
def daemon_group(ctx: click.Context, detach: bool, detached_child: bool, no_worker: bool) -> None:
    """Run the daemon in the foreground (for systemd, tmux, nohup), or manage it.

    One daemon serves a state directory. It stops gracefully on SIGTERM or SIGINT: running runs get
    engine.shutdown_grace_s to finish, the rest go back to the queue for the next start. On a PostgreSQL
    store (store.url) several daemons, each with its own state directory, share one queue with any
    number of `callboard worker`s.
    """
    if ctx.invoked_subcommand is not None:
        return
    cli = ctx.find_object(CliContext)
    assert cli is not None
    settings = cli.settings
    if no_worker:
        if settings.store.url is None:
            fail(
                "--no-worker needs a shared store: set store.url (CALLBOARD_STORE__URL) to postgresql://…",
                EXIT_USAGE,
            )
        settings = settings.model_copy(
            update={"daemon": settings.daemon.model_copy(update={"worker": False})}
        )
        # A daemon started in the background reads its settings afresh: it gets the switch by environment.
        os.environ["CALLBOARD_DAEMON__WORKER"] = "false"
    if detach:
        paths = DaemonPaths.of(settings)
        running = asyncio.run(_health(paths))
        if running is not None:
            click.echo(f"already running: pid {running.pid}, socket {running.socket}")
            return
        try:
            health = asyncio.run(start_daemon(settings, cli.daemon_args()))
        except DaemonStartError as exc:
            fail(f"the daemon could not start:\n{exc}")
        click.echo(f"started: pid {health.pid}, socket {health.socket}")
        return
    from callboard.core.daemon.server import run_daemon

    raise SystemExit(run_daemon(settings, to_stderr=not detached_child))


@daemon_group.command("status")
@pass_cli
def status_cmd(cli: CliContext) -> None:
    """Whether the daemon runs (exit status 3 when it does not), its pid, socket and uptime."""
    paths = DaemonPaths.of(cli.settings)
    health = asyncio.run(_health(paths))
    if health is None:
        click.echo(f"not running (socket {paths.socket})")
        raise SystemExit(EXIT_NOT_RUNNING)
    click.echo(f"running: pid {health.pid}, version {health.version}")
    click.echo(f"socket: {health.socket}")
    click.echo(f"state:  {health.state_dir}")
    click.echo(f"uptime: {uptime(health.started_at)}")
    if health.store_fault:
        click.echo(f"store:  UNAVAILABLE: {health.store_fault}")


@daemon_group.command("stop")
@click.option("--timeout", type=float, default=None, help="Seconds to wait (default: grace period + 10).")
@pass_cli
def stop_cmd(cli: CliContext, timeout: float | None) -> None:
    """Stop the daemon gracefully (SIGTERM) and wait until it has gone."""
    settings = cli.settings
    paths = DaemonPaths.of(settings)
    health = asyncio.run(_health(paths))
    if health is None:
        click.echo("not running")
        return
    limit = timeout if timeout is not None else settings.engine.shutdown_grace_s + 10
    if not stop_daemon(paths, health.pid, limit):
        click.echo("not running")
        return
    click.echo(f"stopped daemon {health.pid}")


def stop_daemon(paths: DaemonPaths, pid: int, limit_s: float) -> bool:
    """SIGTERM the daemon ``pid`` and wait until it has gone (False: it was not running); a daemon
    still there after ``limit_s`` ends the command."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + limit_s
    while process_alive(pid) or socket_answers(paths.socket):
        if time.monotonic() > deadline:
            fail(f"daemon {pid} did not stop within {limit_s:g} s")
        time.sleep(_STOP_POLL_S)
    return True
