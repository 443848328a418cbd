"""Commands on suites and stored tests: import, tests, export-tests (all through the daemon)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from pydantic_core import from_json, to_json
from rich.table import Table

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.cli.output_files import check_writable, write_file
from callboard.core.client import ApiFailure, CallboardClient
from callboard.core.literal import literal_cells, plain_console
from callboard.core.models.api import ImportResult
from callboard.core.models.kinds import KINDS
from callboard.core.wording import plural

_MAX_NAMES_LISTED = 20


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMES_LISTED])
    return shown + (f", … ({len(names) - _MAX_NAMES_LISTED} more)" if len(names) > _MAX_NAMES_LISTED else "")


@click.command("import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--examples", is_flag=True, help="Also import the example suites shipped with callboard.")
@pass_cli
def import_cmd(cli: CliContext, files: tuple[Path, ...], examples: bool) -> None:
    """Import TOML or CSV suite FILES (and, with --examples, the bundled example suites). All or
    nothing: one bad test stores nothing.

    Tests are matched by name: a re-import updates them instead of adding copies.
    """
    if examples:
        from callboard.core.cli.examples import example_files

        files = (*files, *example_files())
    if not files:
        fail("nothing to import: give suite files or --examples", code=EXIT_USAGE)

    async def do_import(client: CallboardClient) -> ImportResult:
        try:
            return await client.import_tests(paths=list(files))
        except ApiFailure as exc:
            if exc.code == "invalid_suite":
                fail(exc.message, code=EXIT_USAGE)  # bad input: exit 2, like every usage error
            raise

    counts = with_daemon(cli, do_import)
    for label, names in (
        ("added", counts.added),
        ("updated", counts.updated),
        ("unchanged", counts.unchanged),
    ):
        line = f"{label}: {len(names)}"
        click.echo(f"{line} ({_names(names)})" if names else line)


@click.command("tests")
@click.option("--tag", help="Only tests with this tag.")
@click.option("--kind", type=click.Choice(KINDS), help="Only tests of this kind.")
@click.option("--search", help="Only tests whose name contains this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_cli
def tests_cmd(cli: CliContext, tag: str | None, kind: str | None, search: str | None, as_json: bool) -> None:
    """List the stored tests with their last result."""
    if as_json:
        raw = with_daemon(cli, lambda client: client.list_tests_json(tag=tag, kind=kind, search=search))
        click.echo(_as_json(raw))
        return
    tests = with_daemon(cli, lambda client: client.list_tests(tag=tag, kind=kind, search=search))
    table = Table("id", "name", "kind", "target", "tags", "last", "score", title=plural(len(tests), "test"))
    for test in tests:
        table.add_row(
            *literal_cells(
                test.id,
                test.name,
                test.kind,
                test.target or "-",
                ", ".join(test.tags),
                test.last_status.value if test.last_status else "-",
                "-" if test.last_score is None else f"{test.last_score:g}",
            )
        )
    plain_console().print(table)


def _as_json(listing: bytes) -> str:
    """The daemon's tests list (``TestList`` JSON) as an indented JSON list of its tests, as
    ``json.dumps`` writes it (non-ASCII escaped). Read as plain data, not a model per test (the daemon
    made it from those models); pydantic writes the same text in a tenth of the time, but leaves
    non-ASCII as it is: then json.dumps."""
    tests = from_json(listing)["tests"]
    text = to_json(tests, indent=2).decode()
    if text.isascii():
        return text
    return json.dumps(tests, indent=2)


@click.command("export-tests")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="File to write ('-' for standard output).")  # fmt: skip
@click.option("--tag", help="Only tests with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Write JSON instead of TOML.")
@pass_cli
def export_cmd(cli: CliContext, output: Path, tag: str | None, as_json: bool) -> None:
    """Write the stored tests as a TOML suite that imports back to the same tests."""
    from callboard.core.models.definitions import parse_test
    from callboard.core.suites import dump_toml_suite

    if str(output) != "-":
        check_writable(output, "-o")
    definitions = with_daemon(cli, lambda client: client.test_definitions(tag=tag))
    try:
        text = (
            json.dumps(definitions, indent=2)
            if as_json
            else dump_toml_suite([parse_test(item) for item in definitions])
        )
    except ValueError as exc:
        fail(f"cannot export: {exc}")
    if str(output) == "-":
        sys.stdout.write(text)
        return
    write_file(output, text.encode("utf-8"), "-o")
