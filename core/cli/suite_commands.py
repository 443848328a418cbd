"""Commands on suites and stored tests: import, tests, export-tests."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from callboard.core.cli.context import CliContext, fail, pass_cli
from callboard.core.cli.local_store import open_store
from callboard.core.models import KINDS, Run, StoredTest, dump_test
from callboard.core.suites import SuiteError, SuiteLimits, dump_toml_suite, load_suites
from callboard.storage.errors import StoreError

_MAX_NAMES_LISTED = 20


def _limits(cli: CliContext) -> SuiteLimits:
    imports = cli.settings.imports
    return SuiteLimits(max_tests=imports.max_tests, max_file_bytes=int(imports.max_file_mb * 1024 * 1024))


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMES_LISTED])
    return shown + (f", … ({len(names) - _MAX_NAMES_LISTED} more)" if len(names) > _MAX_NAMES_LISTED else "")


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@pass_cli
def import_cmd(cli: CliContext, files: tuple[Path, ...]) -> None:
    """Import TOML or CSV suite FILES. All or nothing: one bad test stores nothing.

    Tests are matched by name: a re-import updates them instead of adding copies.
    """
    try:
        tests = load_suites(files, _limits(cli))
    except SuiteError as exc:
        fail(f"import failed, nothing stored:\n{exc}")

    async def store_them() -> None:
        async with open_store(cli.settings) as store:
            try:
                counts = await store.tests.upsert_many(tests)
            except StoreError as exc:
                fail(f"import failed, nothing stored: {exc}")
        for label, names in (
            ("added", counts.added),
            ("updated", counts.updated),
            ("unchanged", counts.unchanged),
        ):
            line = f"{label}: {len(names)}"
            click.echo(f"{line} ({_names(names)})" if names else line)

    asyncio.run(store_them())


def _test_row(test: StoredTest, last: Run | None) -> dict[str, object]:
    definition = test.definition
    return {
        "id": test.id,
        "name": test.name,
        "kind": definition.kind,
        "target": definition.target(),
        "tags": definition.tags,
        "version": test.version,
        "last_status": last.status.value if last else None,
        "last_score": last.score if last else None,
        "last_run_at": last.finished_at.isoformat() if last and last.finished_at else None,
    }


@click.command("tests")
@click.option("--tag", help="Only tests with this tag.")
@click.option("--kind", type=click.Choice(KINDS), help="Only tests of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_cli
def tests_cmd(cli: CliContext, tag: str | None, kind: str | None, as_json: bool) -> None:
    """List the stored tests with their last result."""

    async def fetch() -> list[dict[str, object]]:
        async with open_store(cli.settings) as store:
            tests = await store.tests.list(tag=tag, kind=kind)
            last = await store.runs.last_per_test()
        return [_test_row(test, last.get(test.id)) for test in tests]

    rows = asyncio.run(fetch())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "kind", "target", "tags", "last", "score", title=f"{len(rows)} tests")
    for row in rows:
        score = row["last_score"]
        table.add_row(
            str(row["name"]),
            str(row["kind"]),
            str(row["target"]) or "-",
            ", ".join(row["tags"]),  # type: ignore[arg-type]
            str(row["last_status"] or "-"),
            "-" if score is None else f"{score:g}",
        )
    Console().print(table)


@click.command("export-tests")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="File to write ('-' for standard output).")  # fmt: skip
@click.option("--tag", help="Only tests with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Write JSON instead of TOML.")
@pass_cli
def export_cmd(cli: CliContext, output: Path, tag: str | None, as_json: bool) -> None:
    """Write the stored tests as a TOML suite that imports back to the same tests."""

    async def fetch() -> list[StoredTest]:
        async with open_store(cli.settings) as store:
            return await store.tests.list(tag=tag)

    tests = [stored.definition for stored in asyncio.run(fetch())]
    try:
        text = json.dumps([dump_test(t) for t in tests], indent=2) if as_json else dump_toml_suite(tests)
    except ValueError as exc:
        fail(f"cannot export: {exc}")
    if str(output) == "-":
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {len(tests)} tests to {output}")
