"""``callboard pause`` and ``callboard resume``: stop starting runs from the queue, and start again."""

from __future__ import annotations

import click

from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.cli.daemon_link import with_daemon


@click.command("pause")
@pass_cli
def pause_cmd(cli: CliContext) -> None:
    """Start no new runs; running ones finish."""
    status = with_daemon(cli, lambda client: client.pause())
    click.echo(f"paused: {status.running} running, {status.queued} queued")


@click.command("resume")
@pass_cli
def resume_cmd(cli: CliContext) -> None:
    """Start runs again."""
    status = with_daemon(cli, lambda client: client.resume())
    click.echo(f"resumed: {status.running} running, {status.queued} queued")
