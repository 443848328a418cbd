"""``callboard config``: show and check the effective settings."""

from __future__ import annotations

import json

import click

from callboard.core.cli.context import CliContext, pass_cli


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


def _flatten(values: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in values.items():
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows
