"""Follow a queued batch to its end and turn the outcome into an exit status: what ``run --wait``
and ``callboard wait`` share.

Exit statuses: 0 every run that ran passed (or the mean score reached ``--fail-under``), 1 otherwise,
5 nothing ran at all (no test matched, or every run was skipped), as pytest does when it collects
nothing, so a typo'd tag cannot pass a CI job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console

from callboard.core.cli.follow import follow_batch
from callboard.core.cli.output_files import write_file
from callboard.core.cli.run_display import failures_table, summary_table
from callboard.core.client import CallboardClient
from callboard.core.models import Batch, BatchCounts

EXIT_NOTHING_RAN = 5


@dataclass(frozen=True)
class WaitOptions:
    """What to do once the batch has finished."""

    junit: Path | None = None
    fail_under: float | None = None


def nothing_ran(counts: BatchCounts) -> bool:
    """No run of the batch was carried out: it selected no test, or every run was skipped."""
    carried_out = counts.passed + counts.failed + counts.error + counts.cancelled
    return carried_out + counts.queued + counts.running == 0


async def nothing_ran_reason(client: CallboardClient, batch: Batch) -> str:
    """One line saying why the batch ran nothing, naming the tags that match no test."""
    counts = batch.counts
    if counts.total:
        return f"every run of batch {batch.id} was skipped ({counts.skipped})"
    tags = [str(tag) for tag in batch.selector.get("tags") or []]
    unmatched = [tag for tag in tags if not await client.list_tests(tag=tag)]
    if unmatched:
        return f"no test has tag {', '.join(repr(tag) for tag in unmatched)}"
    if batch.selector.get("all"):
        return "no test is stored (callboard import FILE… adds some)"
    return f"batch {batch.id} selected no test"


def warn_nothing_ran(reason: str) -> None:
    """The one-line reason, on stderr."""
    click.echo(f"callboard: nothing ran: {reason}", err=True)


def warn_if_paused(paused: bool, batch_id: int) -> None:
    """Say at once that the batch waits for a paused queue, instead of waiting silently."""
    if paused:
        click.echo(
            f"callboard: the queue is paused (callboard resume); batch {batch_id} waits for it", err=True
        )


async def wait_for_batch(
    client: CallboardClient, batch: Batch, after_event: int, console: Console, options: WaitOptions
) -> int:
    """Follow ``batch`` from the events after ``after_event``, print its summary and failures, write
    the JUnit file, and return the exit status."""
    finished = await follow_batch(client, batch, after_event, console)
    counts = finished.counts
    # The report reads every run of the batch: asked for only when it has something the counts lack
    # (failures to list, the mean score).
    failures = counts.failed + counts.error
    report = await client.batch_report(finished.id) if failures or options.fail_under is not None else None
    if report is not None:
        counts = report.counts
    console.print(summary_table(finished, counts))
    if report is not None and report.failures:
        console.print(failures_table(report.failures, report.total_failures))
    if options.junit is not None:
        write_file(options.junit, await client.export_batch(finished.id, "junit"), "--junit")
        console.print(f"JUnit XML written to {options.junit}")
    if nothing_ran(counts):
        warn_nothing_ran(await nothing_ran_reason(client, finished))
        return EXIT_NOTHING_RAN
    if report is not None and options.fail_under is not None:
        mean = report.scores.mean
        shown = "-" if mean is None else f"{mean:g}"
        console.print(f"mean score {shown} (fail under {options.fail_under:g})")
        return 0 if mean is not None and mean >= options.fail_under else 1
    return 0 if counts.failed + counts.error + counts.cancelled == 0 else 1
