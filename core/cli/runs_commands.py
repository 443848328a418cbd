"""Commands on runs: runs, show, cancel, retry."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.table import Table

from callboard.core.cli.batch_options import batch_options
from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.cli.run_detail import run_view
from callboard.core.cli.run_display import STATUS_STYLE
from callboard.core.client import CallboardClient
from callboard.core.literal import literal, literal_cells, plain_console
from callboard.core.models import RunStatus
from callboard.core.models.api import BatchCreated, RetryRequest, RunSummary
from callboard.core.wording import plural

_STATUSES = [status.value for status in RunStatus]


@click.command("runs")
@click.option("--batch", "batch_id", type=int, help="Only runs of this batch.")
@click.option("--status", "statuses", type=click.Choice(_STATUSES), multiple=True,
              help="Only runs in this status (repeatable).")  # fmt: skip
@click.option("--test", "test_id", type=int, help="Only runs of the test with this id.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--before", type=int, help="Runs older than this run id (the next page).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_cli
def runs_cmd(
    cli: CliContext,
    batch_id: int | None,
    statuses: tuple[str, ...],
    test_id: int | None,
    limit: int,
    before: int | None,
    as_json: bool,
) -> None:
    """List runs, newest first."""
    page = with_daemon(
        cli,
        lambda client: client.list_runs(
            status=list(statuses) or None, batch_id=batch_id, test_id=test_id, before=before, limit=limit
        ),
    )
    if as_json:
        click.echo(page.model_dump_json(indent=2))
        return
    table = Table("run", "batch", "test", "trial", "status", "score", "duration", "finished", "error")
    now = datetime.now(UTC)
    for run in page.runs:
        table.add_row(
            *literal_cells(run.id, run.batch_id, run.test_name, run.trial),
            literal(run.status.value, STATUS_STYLE[run.status]),
            *literal_cells(
                "-" if run.score is None else f"{run.score:g}",
                _duration(run, now),
                run.finished_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if run.finished_at else "-",
                run.error_kind or run.skip_reason or "",
            ),
        )
    if page.next_before is not None:
        table.caption = f"older: callboard runs --before {page.next_before}"
    plain_console().print(table)


def _duration(run: RunSummary, now: datetime) -> str:
    """How long a finished run took, or how long a running one has been going."""
    if run.duration_ms is not None:
        return f"{run.duration_ms / 1000:.2f}s"
    if run.status is RunStatus.RUNNING and run.started_at is not None:
        return f"{(now - run.started_at).total_seconds():.0f}s so far"
    return "-"


@click.command("show")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@pass_cli
def show_cmd(cli: CliContext, run_id: int, as_json: bool) -> None:
    """Show one run: status, score, timings, checks (failures first), transcript, metrics, error."""
    run = with_daemon(cli, lambda client: client.get_run(run_id))
    if as_json:
        click.echo(run.model_dump_json(indent=2))
        return
    plain_console().print(run_view(run))


@click.command("cancel")
@click.argument("run_id", type=int, required=False)
@click.option("--batch", "batch_id", type=int, help="Cancel every unfinished run of this batch.")
@click.option("--all", "everything", is_flag=True, help="Cancel every queued and running run.")
@pass_cli
def cancel_cmd(cli: CliContext, run_id: int | None, batch_id: int | None, everything: bool) -> None:
    """Cancel RUN, a --batch, or --all. A running call is hung up; a running command is killed."""
    if sum(x is not None and x is not False for x in (run_id, batch_id, everything)) != 1:
        fail("give one of RUN, --batch B or --all", code=EXIT_USAGE)

    async def cancel(client: CallboardClient) -> str:
        if run_id is not None:
            await client.cancel_run(run_id)
            return f"cancelled run {run_id}"
        if batch_id is not None:
            return f"cancelled {plural(await client.cancel_batch(batch_id), 'run')} of batch {batch_id}"
        return f"cancelled {plural(await client.cancel_all(), 'run')}"

    click.echo(with_daemon(cli, cancel))


@click.command("retry")
@click.argument("run_id", type=int, required=False)
@click.option("--batch", "batch_id", type=int, help="Run this batch's tests again.")
@click.option("--failed", is_flag=True, help="With --batch: only the tests that failed or errored.")
@batch_options
@pass_cli
def retry_cmd(
    cli: CliContext, run_id: int | None, batch_id: int | None, failed: bool, priority: int, repeat: int | None
) -> None:
    """Queue RUN's test again, or a --batch's tests (--failed: only those that did not pass), as a new
    batch with --priority and --repeat."""
    if (run_id is None) == (batch_id is None):
        fail("give RUN or --batch B", code=EXIT_USAGE)
    if failed and batch_id is None:
        fail("--failed goes with --batch", code=EXIT_USAGE)

    async def retry(client: CallboardClient) -> BatchCreated:
        request = RetryRequest(failed_only=failed, priority=priority, repeat=repeat)
        if run_id is not None:
            return await client.retry_run(run_id, request)
        assert batch_id is not None
        return await client.retry_batch(batch_id, request)

    created = with_daemon(cli, retry)
    counts = created.batch.counts
    click.echo(
        f"batch {created.batch.id} queued: {plural(counts.total - counts.skipped, 'run')} "
        f"({created.batch.label})"
    )
