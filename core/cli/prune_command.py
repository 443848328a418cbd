"""``callboard prune``: delete old history now, as retention would."""

from __future__ import annotations

import click

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.wording import plural


@click.command("prune")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), help="Delete batches older than this.")
@click.option("--max-runs", type=click.IntRange(1), help="Keep at most this many runs (oldest batches go).")
@pass_cli
def prune_cmd(cli: CliContext, days: float | None, max_runs: int | None) -> None:
    """Delete old history now, whole batches at a time, then give the space back (default limits:
    retention.*)."""
    retention = cli.settings.retention
    if days is None and max_runs is None and retention.days is None and retention.max_runs is None:
        fail("nothing to prune by: give --days or --max-runs, or set retention.*", code=EXIT_USAGE)
    result = with_daemon(cli, lambda client: client.prune(days, max_runs))
    vacuumed = ", database vacuumed" if result.vacuumed else ""
    click.echo(f"pruned {plural(result.batches, 'batch')} ({plural(result.runs, 'run')}){vacuumed}")
