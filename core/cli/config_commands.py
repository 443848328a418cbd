"""``callboard config check``: validate the settings, print the effective values (secrets masked) and
say where the running daemon's differ."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.client import ApiFailure, CallboardClient, DaemonUnavailable


@click.group("config")
def config_group() -> None:
    """Inspect the settings."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_cli
def check_cmd(cli: CliContext, as_json: bool) -> None:
    """Validate the settings and print the effective values, secrets masked."""
    from callboard.core.config import find_config_file, masked

    settings = cli.settings
    values = masked(settings)
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    source = find_config_file(cli.config_file)
    click.echo(f"# config file: {source if source else '(none; defaults and environment)'}")
    for key, value in _flatten(values):
        click.echo(f"{key} = {json.dumps(value)}")
    click.echo("ok")
    _compare_with_the_daemon(cli, values)


def _compare_with_the_daemon(cli: CliContext, values: dict[str, object]) -> None:
    """Say when the running daemon started with other settings (it keeps them until restarted)."""
    from callboard.core.paths import DaemonPaths

    daemon = asyncio.run(_daemon_settings(DaemonPaths.of(cli.settings).socket))
    if daemon is None:
        return
    pid, running = daemon
    theirs = dict(_flatten(running))
    differ = [
        f"{key} = {json.dumps(theirs.get(key))} (here {json.dumps(value)})"
        for key, value in _flatten(values)
        if theirs.get(key) != value
    ]
    if not differ:
        click.echo(f"the running daemon (pid {pid}) uses these settings")
        return
    options = " ".join(cli.daemon_args())
    prefix = f"callboard {options} " if options else "callboard "
    click.echo(f"the running daemon (pid {pid}) started with other settings; it keeps them until restarted:")
    for line in differ:
        click.echo(f"  {line}")
    click.echo(f"restart it to apply these: {prefix}daemon stop && {prefix}daemon --detach")


async def _daemon_settings(socket: Path) -> tuple[int, dict[str, object]] | None:
    async with CallboardClient(socket, timeout_s=5.0) as client:
        try:
            health = await client.health()
        except DaemonUnavailable:
            return None
        try:
            return health.pid, await client.daemon_settings()
        except (ApiFailure, DaemonUnavailable):
            # An older daemon without GET /v1/settings: nothing to compare with.
            return health.pid, {}


def _flatten(values: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in values.items():
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows
