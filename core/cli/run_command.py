"""``callboard run``: queue tests as a batch in the daemon; with ``--wait``, follow it to the end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from callboard.core.cli.batch_options import batch_options
from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.daemon_link import EXIT_INTERRUPTED, with_daemon
from callboard.core.cli.output_files import check_writable
from callboard.core.client import CallboardClient
from callboard.core.models.api import BatchCreated, BatchRequest
from callboard.core.wording import plural

if TYPE_CHECKING:
    from rich.console import Console


@click.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every stored test.")
@click.option("--tag", "tags", multiple=True, help="Run the tests with this tag (repeatable).")
@click.option("--id", "ids", type=int, multiple=True, help="Run the test with this id (repeatable).")
@batch_options
@click.option("--label", default="", help="A name for the batch.")
@click.option("--wait", is_flag=True, help="Follow the batch with live progress; exit status from results.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False),
              help="With --wait: write the results as JUnit XML here.")  # fmt: skip
@click.option("--fail-under", type=click.FloatRange(0, 100),
              help="With --wait: exit 0 when the mean score reaches this.")  # fmt: skip
@pass_cli
def run_cmd(
    cli: CliContext,
    names: tuple[str, ...],
    run_all: bool,
    tags: tuple[str, ...],
    ids: tuple[int, ...],
    priority: int,
    repeat: int | None,
    label: str,
    wait: bool,
    junit: Path | None,
    fail_under: float | None,
) -> None:
    """Queue tests by NAME, --id, --tag or --all as one batch; the daemon runs it in the background.

    With --wait the command follows the batch and exits 0 only when every run that ran passed
    (skipped tests do not count), or, with --fail-under, when the mean score reaches it; 1 when not;
    5 when nothing ran (no test matched, or every run was skipped). Ctrl-C stops following; the
    batch goes on (callboard wait BATCH follows it again).
    """
    if not (names or run_all or tags or ids):
        fail("nothing to run: give test names, --id, --tag or --all", code=EXIT_USAGE)
    if junit is not None:
        check_writable(junit, "--junit")  # before anything is queued
    wait = wait or junit is not None or fail_under is not None
    request = BatchRequest(
        ids=list(ids), names=list(names), tags=list(tags), all=run_all, priority=priority, repeat=repeat,
        label=label, source="cli",
    )  # fmt: skip

    async def go(client: CallboardClient) -> int:
        queue = await client.queue()
        created = await client.create_batch(request)
        # Imported once the batch is queued: the daemon is already running it while the display loads
        # (rich and the reports' models, about a fifth of the command's imports).
        from callboard.core.cli.batch_wait import (
            EXIT_NOTHING_RAN,
            WaitOptions,
            nothing_ran,
            nothing_ran_reason,
            wait_for_batch,
            warn_if_paused,
            warn_nothing_ran,
        )
        from callboard.core.literal import plain_console

        console = plain_console()
        _announce(console, created)
        batch = created.batch
        if not wait:
            if nothing_ran(batch.counts):
                warn_nothing_ran(await nothing_ran_reason(client, batch))
                return EXIT_NOTHING_RAN
            return 0
        if not nothing_ran(batch.counts):
            warn_if_paused(queue.paused, batch.id)
        try:
            return await wait_for_batch(
                client, batch, queue.last_event_id, console, WaitOptions(junit, fail_under)
            )
        except KeyboardInterrupt:
            return _detached(console, batch.id)

    raise SystemExit(with_daemon(cli, go))


def _announce(console: Console, created: BatchCreated) -> None:
    from callboard.core.literal import literal

    batch = created.batch
    counts = batch.counts
    console.print(
        f"batch {batch.id} queued: {plural(counts.total - counts.skipped, 'run')}"
        + (f" ({counts.skipped} skipped)" if counts.skipped else "")
    )
    for skipped in created.skipped:
        console.print(literal(f"skipped {skipped.test}: {skipped.reason}", "dim"))


def _detached(console: Console, batch_id: int) -> int:
    console.print(
        f"stopped following; batch {batch_id} goes on in the daemon "
        f"(callboard cancel --batch {batch_id} stops it)",
        style="yellow",
    )
    return EXIT_INTERRUPTED
