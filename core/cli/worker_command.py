"""``callboard worker``: claim and execute runs from the PostgreSQL store, with no API (any number, on
any machines)."""

from __future__ import annotations

import logging
import sys

import click

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Runs at once here (default: engine.concurrency).",
)
@click.option(
    "--lease",
    "lease_s",
    type=click.FloatRange(min=1.0),
    default=30.0,
    show_default=True,
    help="Seconds a claim holds without a heartbeat before another worker may take it.",
)
@pass_cli
def worker_cmd(cli: CliContext, concurrency: int | None, lease_s: float) -> None:
    """Claim queued runs from the PostgreSQL store (store.url) and execute them until stopped (SIGTERM or
    Ctrl-C: running runs get the grace period, the rest go back to the queue)."""
    url = cli.settings.store.url
    if url is None:
        fail(
            "callboard worker needs a shared store: set store.url (CALLBOARD_STORE__URL) to postgresql://…",
            EXIT_USAGE,
        )
    # Imported here only: the other commands reach the store through the daemon.
    from callboard.core.worker.main import serve_worker, worker_options
    from callboard.storage.errors import StoreError

    options = worker_options(cli.settings, concurrency, lease_s)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    try:
        owner = serve_worker(cli.settings, url.get_secret_value(), options)
    except StoreError as exc:
        fail(f"worker: {exc}", EXIT_USAGE)
    click.echo(f"worker {owner} stopped")
