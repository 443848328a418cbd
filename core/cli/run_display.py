"""How the CLI shows batches and runs: the live progress bar and summary of ``run --wait``, ``wait`` and
``demo``, the report view of ``report``, and the status colours and percentages other commands share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from callboard.core.literal import literal, literal_cells
from callboard.core.models import Batch, BatchCounts, RunStatus
from callboard.core.models.events import BatchProgress
from callboard.core.wording import percent

if TYPE_CHECKING:
    # Only the commands that show a report load its models.
    from callboard.core.models.reports import BatchReport, FailureSummary

STATUS_STYLE = {
    RunStatus.QUEUED: "dim",
    RunStatus.RUNNING: "cyan",
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
            # The description is the batch's label: user data, so not markup.
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task(label, total=total, stats="")

    def update(self, event: BatchProgress) -> None:
        """Move the bar to what the event says."""
        eta = "-" if event.eta_s is None else f"{event.eta_s:.0f}s"
        stats = f"pass {percent(event.pass_rate)}  rate {event.rate_per_s:.1f}/s  eta {eta}"
        self.progress.update(self.task, completed=event.done, stats=stats)

    def update_counts(self, counts: BatchCounts) -> None:
        """Move the bar to the counts read from the API (after the event stream was reset)."""
        self.progress.update(self.task, completed=counts.done, stats=f"pass {percent(counts.pass_rate)}")


def summary_table(batch: Batch, counts: BatchCounts | None = None) -> Table:
    """Counts and pass rate of the batch."""
    counts = counts or batch.counts
    table = Table(title=literal(f"batch {batch.id}: {batch.label}"), show_header=True)
    for column in ("total", "passed", "failed", "error", "cancelled", "skipped", "pass rate"):
        table.add_column(column, justify="right")
    table.add_row(
        literal(counts.total),
        literal(counts.passed, "green"),
        literal(counts.failed, "red"),
        literal(counts.error, "magenta"),
        literal(counts.cancelled, "yellow"),
        literal(counts.skipped, "dim"),
        literal(percent(counts.pass_rate)),
    )
    return table


def failures_table(failures: tuple[FailureSummary, ...], total_failures: int) -> Table:
    """One row per failed or errored run with its first failing check or its error."""
    title = f"not passed ({total_failures})" if total_failures > len(failures) else "not passed"
    table = Table("run", "test", "status", "why", title=title)
    for failure in failures:
        style = STATUS_STYLE[failure.status]
        table.add_row(
            *literal_cells(failure.run_id, failure.test_name),
            literal(failure.status.value, style),
            literal(failure.reason()),
        )
    return table


def report_view(report: BatchReport) -> Group:
    """The whole report: summary, score distribution, slowest runs, failures."""
    parts: list[Table] = [summary_table(report.batch, report.counts)]
    scores = report.scores
    if scores.count:
        stats = Table("runs scored", "min", "median", "mean", "max", title="scores")
        stats.add_row(*literal_cells(*(f"{v:g}" if v is not None else "-" for v in (
            scores.count, scores.minimum, scores.median, scores.mean, scores.maximum))))  # fmt: skip
        parts.append(stats)
        widest = max(bucket.count for bucket in scores.buckets) or 1
        histogram = Table("score", "runs", "", title="score distribution", show_edge=False)
        for bucket in scores.buckets:
            histogram.add_row(
                *literal_cells(bucket.label, bucket.count, "█" * round(30 * bucket.count / widest))
            )
        parts.append(histogram)
    if report.llm_prompt_tokens or report.llm_completion_tokens:
        tokens = Table("prompt", "completion", "total", title="model tokens")
        total = report.llm_prompt_tokens + report.llm_completion_tokens
        tokens.add_row(*(str(n) for n in (report.llm_prompt_tokens, report.llm_completion_tokens, total)))
        parts.append(tokens)
    if report.slowest:
        slow = Table("run", "test", "trial", "duration", title="slowest runs")
        for run in report.slowest:
            slow.add_row(
                *literal_cells(run.run_id, run.test_name, run.trial, f"{run.duration_ms / 1000:.3f}s")
            )
        parts.append(slow)
    if report.turn_latency:
        parts.append(turn_latency_table(report))
    if report.failures:
        parts.append(failures_table(report.failures, report.total_failures))
    return Group(*parts)


def turn_latency_table(report: BatchReport) -> Table:
    """Turn latency per test, pooled over its trials."""
    table = Table("test", "runs", "turns", "p50", "p90", "p95", "late answers",
                  title="turn latency (pooled over trials)")  # fmt: skip
    for pooled in report.turn_latency:
        table.add_row(
            Text(pooled.test_name),
            str(pooled.runs),
            str(pooled.turns),
            *(f"{value:g} ms" for value in (pooled.p50_ms, pooled.p90_ms, pooled.p95_ms)),
            str(pooled.late_answers),
        )
    return table
