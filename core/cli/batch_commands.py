"""``callboard export`` and ``callboard report``: a batch's runs as a file, or summarised."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console

from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.cli.run_display import report_view


@click.command("export")
@click.option("--batch", "batch_id", type=int, required=True, help="The batch to export.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "junit"]), default="json", show_default=True
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="File to write ('-' for standard output).")  # fmt: skip
@pass_cli
def export_cmd(cli: CliContext, batch_id: int, fmt: str, output: Path) -> None:
    """Write a batch's runs as CSV, JSON or JUnit XML (for CI reporters)."""
    data = with_daemon(cli, lambda client: client.export_batch(batch_id, fmt))
    if str(output) == "-":
        sys.stdout.buffer.write(data)
        return
    output.write_bytes(data)
    click.echo(f"wrote {output}", err=True)


@click.command("report")
@click.argument("batch_id", type=int)
@click.option("--slowest", type=click.IntRange(0, 1000), default=5, show_default=True)
@click.option("--failures", type=click.IntRange(0, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_cli
def report_cmd(cli: CliContext, batch_id: int, slowest: int, failures: int, as_json: bool) -> None:
    """Counts, pass rate, score distribution, slowest runs, and failures with their first failing check."""
    report = with_daemon(cli, lambda client: client.batch_report(batch_id, slowest, failures))
    if as_json:
        click.echo(json.dumps(asdict(report), default=_jsonable, indent=2))
        return
    Console().print(report_view(report))


def _jsonable(value: object) -> object:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if dump is not None else str(value)
