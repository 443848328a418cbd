"""``callboard store``: operations on the store itself, run by the CLI without the daemon."""

from __future__ import annotations

import asyncio

import click

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.config import STORE_URL_SCHEMES


@click.group("store")
def store_group() -> None:
    """The store itself: copy the SQLite history to PostgreSQL."""


@store_group.command("copy")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="postgresql://…",
    help="An empty PostgreSQL database (its password stays out of every message).",
)
@pass_cli
def copy_cmd(cli: CliContext, target: str) -> None:
    """Copy this state directory's SQLite history (tests, batches, runs, schedules) into an empty
    PostgreSQL database, ids kept; then point store.url at it."""
    # The storage layer is imported here only: the other commands reach the store through the daemon.
    from callboard.storage.errors import StoreError
    from callboard.storage.postgres.connection import describe
    from callboard.storage.postgres.copy import copy_sqlite_to_postgres

    if not target.startswith(STORE_URL_SCHEMES):
        fail("--to must be a postgresql:// URL", EXIT_USAGE)
    try:
        counts = asyncio.run(copy_sqlite_to_postgres(cli.settings.db_path, target))
    except StoreError as exc:
        fail(f"store copy: {exc}", EXIT_USAGE)
    rows = counts.rows
    click.echo(
        f"copied {rows['tests']} tests, {rows['batches']} batches, {rows['runs']} runs and "
        f"{rows['schedules']} schedules from {cli.settings.db_path} to {describe(target)}"
    )
