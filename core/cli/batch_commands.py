"""``callboard export`` and ``callboard report``: a batch's runs as a file, or summarised."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.cli.output_files import check_writable, write_file
from callboard.core.cli.run_display import report_view
from callboard.core.literal import literal, literal_cells, plain_console
from callboard.core.reports.history import sparkline
from callboard.core.wording import percent


@click.command("export")
@click.option("--batch", "batch_id", type=int, required=True, help="The batch to export.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "junit", "html"]), default="json", show_default=True
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="File to write ('-' for standard output).")  # fmt: skip
@pass_cli
def export_cmd(cli: CliContext, batch_id: int, fmt: str, output: Path) -> None:
    """Write a batch's runs as CSV, JSON, JUnit XML (for CI reporters) or a self-contained HTML report."""
    to_stdout = str(output) == "-"
    if not to_stdout:
        check_writable(output, "-o")
    data = with_daemon(cli, lambda client: client.export_batch(batch_id, fmt))
    if to_stdout:
        sys.stdout.buffer.write(data)
        return
    write_file(output, data, "-o")
    click.echo(f"wrote {output}", err=True)


@click.command("report")
@click.argument("batch_id", type=int)
@click.option("--slowest", type=click.IntRange(0, 1000), default=5, show_default=True)
@click.option("--failures", type=click.IntRange(0, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the full report as one self-contained HTML file.")  # fmt: skip
@pass_cli
def report_cmd(
    cli: CliContext, batch_id: int, slowest: int, failures: int, as_json: bool, html_file: Path | None
) -> None:
    """Counts, pass rate, score distribution, slowest runs, and failures with their first failing check."""
    if html_file is not None:
        check_writable(html_file, "--html")
        html = with_daemon(cli, lambda client: client.export_batch(batch_id, "html"))
        write_file(html_file, html, "--html")
        click.echo(f"wrote {html_file}")
        return
    report = with_daemon(cli, lambda client: client.batch_report(batch_id, slowest, failures))
    if as_json:
        click.echo(json.dumps(asdict(report), default=_jsonable, indent=2))
        return
    plain_console().print(report_view(report))


def _jsonable(value: object) -> object:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if dump is not None else str(value)


@click.command("trends")
@click.option("--batches", "last_batches", type=click.IntRange(1, 100), default=10, show_default=True,
              help="How many of each test's latest batches.")  # fmt: skip
@click.option("--test", "test_name", help="Only this test.")
@click.option("--flaky", "only_flaky", is_flag=True, help="Only flaky tests.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_cli
def trends_cmd(
    cli: CliContext, last_batches: int, test_name: str | None, only_flaky: bool, as_json: bool
) -> None:
    """Pass rate and score per test over its latest batches; flaky tests (passed and failed at the same
    version) are flagged."""
    tests = with_daemon(cli, lambda client: client.trends(last_batches, test_name, only_flaky)).tests
    if as_json:
        click.echo(json.dumps([test.model_dump() for test in tests], indent=2))
        return
    table = Table("test", "pass rate", "trend", "score", "batches", "flaky", title="trends (oldest → newest)")
    for test in tests:
        rates = [point.pass_rate for point in test.points]
        scores = [point.mean_score for point in test.points]
        last_score = next((score for score in reversed(scores) if score is not None), None)
        table.add_row(
            *literal_cells(
                test.name,
                percent(rates[-1] if rates else None),
                sparkline(rates, low=0, high=100),
                "-" if last_score is None else f"{last_score:g}",
                len(test.points),
            ),
            literal(f"flaky (v{test.flaky_version})" if test.flaky else "", "yellow"),
        )
    plain_console().print(table)
