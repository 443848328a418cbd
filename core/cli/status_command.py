"""``callboard status``: the monitor — running and queued, progress per batch, rate, ETA, pass rate,
and what is running now; ``--watch`` keeps it live."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click
from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.client import CallboardClient
from callboard.core.literal import literal, literal_cells, plain_console
from callboard.core.models.api import QueueStatus
from callboard.core.wording import percent

_RUNNING_SHOWN = 10


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def monitor_view(status: QueueStatus) -> Group:
    """The monitor as rich renderables."""
    state = literal("paused", "yellow") if status.paused else literal("running", "green")
    passed = sum(b.counts.passed for b in status.active_batches)
    judged = sum(b.counts.passed + b.counts.failed + b.counts.error for b in status.active_batches)
    success = percent(100.0 * passed / judged if judged else None)
    head = Table.grid(padding=(0, 3))
    head.add_row(
        Text.assemble("queue ", state),
        Text.assemble("running ", literal(status.running, "bold"), f"/{status.concurrency.limit}"),
        Text.assemble("queued ", literal(status.queued, "bold")),
        literal(f"rate {status.rate_per_s:.1f}/s"),
        literal(f"eta {_span(status.eta_s)}"),
        literal(f"success {success}"),
    )
    parts: list[Table | Text] = [head]
    if status.store_fault:
        # The daemon's own words, shown literally.
        parts.append(Text(f"store fault: {status.store_fault}", style="bold red"))
    if status.active_batches:
        batches = Table(
            "batch", "label", "progress", "done", "pass", title="active batches", title_justify="left"
        )
        for batch in status.active_batches:
            counts = batch.counts
            batches.add_row(
                *literal_cells(
                    batch.id,
                    batch.label,
                    ProgressBar(total=max(counts.total, 1), completed=counts.done, width=30),
                    f"{counts.done}/{counts.total}",
                    percent(counts.pass_rate),
                )
            )
        parts.append(batches)
    else:
        parts.append(Table.grid())
    if status.running_runs:
        running = Table("run", "batch", "test", "elapsed", title="running now", title_justify="left")
        now = datetime.now(UTC)
        for run in status.running_runs[:_RUNNING_SHOWN]:
            elapsed = None if run.started_at is None else (now - run.started_at).total_seconds()
            running.add_row(*literal_cells(run.run_id, run.batch_id, run.test_name, _span(elapsed)))
        if len(status.running_runs) > _RUNNING_SHOWN:
            running.caption = f"and {len(status.running_runs) - _RUNNING_SHOWN} more"
        parts.append(running)
    limits = {key: usage for key, usage in status.limits.items() if usage.in_use or usage.limit}
    if limits:
        table = Table("limit", "in use", "of", "rate/s", title="limits", title_justify="left")
        for key, usage in sorted(limits.items()):
            rate = "-" if usage.rate_per_s is None else f"{usage.rate_per_s:g}"
            table.add_row(*literal_cells(key, usage.in_use, usage.limit or "-", rate))
        parts.append(table)
    return Group(*parts)


@click.command("status")
@click.option("--watch", is_flag=True, help="Keep refreshing until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(0.1, 60), default=1.0, show_default=True,
              help="Seconds between refreshes with --watch.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the queue status as JSON.")
@pass_cli
def status_cmd(cli: CliContext, watch: bool, interval: float, as_json: bool) -> None:
    """What the daemon is doing: running and queued runs, each active batch's progress, rate, ETA."""
    console = plain_console()

    async def show(client: CallboardClient) -> None:
        status = await client.queue()
        if as_json:
            click.echo(status.model_dump_json(indent=2))
            return
        if not watch:
            console.print(monitor_view(status))
            return
        with Live(monitor_view(status), console=console, refresh_per_second=4) as live:
            while True:
                await asyncio.sleep(interval)
                live.update(monitor_view(await client.queue()))

    with_daemon(cli, show)
