"""What ``callboard run`` shows: a live progress bar from events, then a summary table."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from callboard.core.models import Batch, Run, RunStatus
from callboard.core.models.events import BatchProgress

_STATUS_STYLE = {
    RunStatus.PASSED: "green",
    RunStatus.FAILED: "red",
    RunStatus.ERROR: "magenta",
    RunStatus.CANCELLED: "yellow",
    RunStatus.SKIPPED: "dim",
}


class BatchProgressBar:
    """A rich progress bar showing done/total, pass rate, rate and ETA."""

    def __init__(self, console: Console, total: int, label: str) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task(label, total=total, stats="")

    def update(self, event: BatchProgress) -> None:
        """Move the bar to what the event says."""
        rate = f"{event.rate_per_s:.1f}/s"
        eta = "-" if event.eta_s is None else f"{event.eta_s:.0f}s"
        pass_rate = "-" if event.pass_rate is None else f"{event.pass_rate:.1f}%"
        stats = f"pass {pass_rate}  rate {rate}  eta {eta}"
        self.progress.update(self.task, completed=event.done, stats=stats)


def summary_table(batch: Batch) -> Table:
    """Counts and pass rate of the batch."""
    counts = batch.counts
    table = Table(title=f"batch {batch.id}: {batch.label}", show_header=True)
    for column in ("total", "passed", "failed", "error", "cancelled", "skipped", "pass rate"):
        table.add_column(column, justify="right")
    table.add_row(
        str(counts.total),
        f"[green]{counts.passed}",
        f"[red]{counts.failed}",
        f"[magenta]{counts.error}",
        f"[yellow]{counts.cancelled}",
        f"[dim]{counts.skipped}",
        "-" if counts.pass_rate is None else f"{counts.pass_rate:.1f}%",
    )
    return table


def failures_table(failures: list[Run], total_failures: int) -> Table:
    """One row per failed/errored run with why it did not pass."""
    title = f"not passed ({total_failures})" if total_failures > len(failures) else "not passed"
    table = Table("run", "test", "status", "why", title=title)
    for run in failures:
        table.add_row(
            str(run.id), run.test_name, f"[{_STATUS_STYLE[run.status]}]{run.status.value}", _why(run)
        )
    return table


def _why(run: Run) -> str:
    if run.error_message:
        return f"{run.error_kind or 'error'}: {run.error_message}"
    for check in run.checks:
        if not check.passed:
            detail = check.message or f"expected {check.expected!r}, got {check.actual!r}"
            return f"{check.name}: {detail}"
    return run.skip_reason or ""
