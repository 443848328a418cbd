"""``callboard wait BATCH``: follow a batch that is already queued (by another shell, a schedule, the
TUI) with the same progress bar, summary and exit statuses as ``run --wait``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from callboard.core.cli.batch_wait import WaitOptions, nothing_ran, wait_for_batch, warn_if_paused
from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.cli.daemon_link import EXIT_INTERRUPTED, with_daemon
from callboard.core.cli.output_files import check_writable
from callboard.core.client import CallboardClient
from callboard.core.models import BatchStatus


@click.command("wait")
@click.argument("batch_id", type=int)
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the results as JUnit XML here.")  # fmt: skip
@click.option("--fail-under", type=click.FloatRange(0, 100),
              help="Exit 0 when the mean score reaches this.")  # fmt: skip
@pass_cli
def wait_cmd(cli: CliContext, batch_id: int, junit: Path | None, fail_under: float | None) -> None:
    """Follow batch BATCH_ID to its end; exit 0 when every run that ran passed, 1 when not, 5 when
    nothing ran (as run --wait). Ctrl-C stops following; the batch goes on."""
    if junit is not None:
        check_writable(junit, "--junit")
    console = Console()

    async def go(client: CallboardClient) -> int:
        queue = await client.queue()
        batch = await client.get_batch(batch_id)
        if batch.status == BatchStatus.RUNNING and not nothing_ran(batch.counts):
            warn_if_paused(queue.paused, batch.id)
        try:
            return await wait_for_batch(
                client, batch, queue.last_event_id, console, WaitOptions(junit, fail_under)
            )
        except KeyboardInterrupt:
            console.print(f"[yellow]stopped following; batch {batch_id} goes on in the daemon[/yellow]")
            return EXIT_INTERRUPTED

    raise SystemExit(with_daemon(cli, go))
