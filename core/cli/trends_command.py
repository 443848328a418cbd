"""``callboard trends``: pass rate and score per test over its latest batches, flaky tests flagged."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
from pydantic_core import from_json

from callboard.core.cli.context import CliContext, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.literal import aligned_lines
from callboard.core.sparkline import sparkline
from callboard.core.wording import percent

if TYPE_CHECKING:
    from callboard.core.client import CallboardClient


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
    params: dict[str, Any] = {"last_batches": last_batches}
    if test_name is not None:
        params["test"] = test_name
    if only_flaky:
        params["flaky"] = "true"

    async def read(client: CallboardClient) -> list[dict[str, Any]]:
        # The daemon's Trends document read as plain data: validating a model per point took longer than
        # the request itself at 10,000 tests (its schema is ``models.api.Trends``, the daemon's encoding).
        # Parsed here, not after: on its way out asyncio.run (3.11) formats the repr of the coroutine's
        # result twice (signal.getsignal names the main task), and a list's is bounded, 3 MB of bytes' not.
        body = (await client.request("GET", "/v1/trends", params=params)).content
        tests: list[dict[str, Any]] = from_json(body)["tests"]
        return tests

    tests = with_daemon(cli, read)
    if as_json:
        click.echo(json.dumps(tests, indent=2))
        return
    rows: list[tuple[str, ...]] = []
    # Most tests share a series (every batch passed): each distinct one is drawn once.
    bars: dict[tuple[float, ...], str] = {}
    for test in tests:
        points = test["points"]
        rates = [point["pass_rate"] for point in points]
        scores = [point["mean_score"] for point in points]
        last_score = next((score for score in reversed(scores) if score is not None), None)
        series = tuple(rates)
        if series not in bars:
            bars[series] = sparkline(rates, low=0, high=100)
        rows.append(
            (
                test["name"],
                percent(rates[-1] if rates else None),
                bars[series],
                "-" if last_score is None else f"{last_score:g}",
                str(len(rates)),
                f"flaky (v{test['flaky_version']})" if test["flaky"] else "",
            )
        )
    # Plain aligned lines, not a Rich table: thousands of tests take seconds to lay out cell by cell.
    lines = aligned_lines(("test", "pass rate", "trend", "score", "batches", "flaky"), rows, right={1, 3, 4})
    out = ["trends (oldest → newest)", lines[0], lines[1]]
    for line, row in zip(lines[2:], rows, strict=True):
        flaky = row[-1]
        out.append(line[: len(line) - len(flaky)] + click.style(flaky, fg="yellow") if flaky else line)
    # One write: a line at a time is a system call per test.
    click.echo("\n".join(out))
