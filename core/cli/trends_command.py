"""``callboard trends``: pass rate and score per test over its latest batches, flaky tests flagged."""

from __future__ import annotations

import json

import click

from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.literal import aligned_lines
from callboard.core.sparkline import sparkline
from callboard.core.wording import percent


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
    tests = with_daemon(
        cli, lambda client: client.trends(last_batches, test_name, flaky_only=only_flaky)
    ).tests
    if as_json:
        click.echo(json.dumps([test.model_dump() for test in tests], indent=2))
        return
    rows: list[tuple[str, ...]] = []
    for test in tests:
        rates = [point.pass_rate for point in test.points]
        scores = [point.mean_score for point in test.points]
        last_score = next((score for score in reversed(scores) if score is not None), None)
        rows.append(
            (
                test.name,
                percent(rates[-1] if rates else None),
                sparkline(rates, low=0, high=100),
                "-" if last_score is None else f"{last_score:g}",
                str(len(test.points)),
                f"flaky (v{test.flaky_version})" if test.flaky else "",
            )
        )
    # Plain aligned lines, not a Rich table: thousands of tests take seconds to lay out cell by cell.
    lines = aligned_lines(("test", "pass rate", "trend", "score", "batches", "flaky"), rows, right={1, 3, 4})
    click.echo("trends (oldest → newest)")
    click.echo(lines[0])
    click.echo(lines[1])
    for line, row in zip(lines[2:], rows, strict=True):
        flaky = row[-1]
        click.echo(line[: len(line) - len(flaky)] + click.style(flaky, fg="yellow") if flaky else line)
