"""``callboard rm``: delete stored tests by name or tag (their past runs stay), after a confirmation."""

from __future__ import annotations

import click

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.client import CallboardClient
from callboard.core.models.api import TestSummary

_LISTED = 20


def _pick(tests: list[TestSummary], names: tuple[str, ...], tags: tuple[str, ...]) -> list[TestSummary]:
    known = {test.name for test in tests}
    missing = [name for name in names if name not in known]
    present_tags = {tag for test in tests for tag in test.tags}
    missing += [f"tag {tag!r}" for tag in tags if tag not in present_tags]
    if missing:
        fail(f"no such test(s): {', '.join(missing)}; nothing deleted", code=EXIT_USAGE)
    wanted = set(names)
    return [test for test in tests if test.name in wanted or _has_tag(test, tags)]


def _has_tag(test: TestSummary, tags: tuple[str, ...]) -> bool:
    """The test has one of ``tags``."""
    return any(tag in test.tags for tag in tags)


@click.command("rm")
@click.argument("names", nargs=-1)
@click.option("--tag", "tags", multiple=True, help="Delete the tests with this tag (repeatable).")
@click.option("-y", "--yes", is_flag=True, help="Delete without asking.")
@pass_cli
def rm_cmd(cli: CliContext, names: tuple[str, ...], tags: tuple[str, ...], yes: bool) -> None:
    """Delete the tests NAMES and those with --tag; asks first unless --yes. Their past runs stay."""
    if not (names or tags):
        fail("nothing to delete: give test names or --tag", code=EXIT_USAGE)
    chosen = _pick(with_daemon(cli, lambda client: client.list_tests()), names, tags)
    shown = ", ".join(test.name for test in chosen[:_LISTED])
    shown += f", … ({len(chosen) - _LISTED} more)" if len(chosen) > _LISTED else ""
    what = f"{len(chosen)} test{'' if len(chosen) == 1 else 's'}: {shown}"
    if not yes and not click.confirm(f"delete {what}?", err=True):
        fail("nothing deleted")

    async def delete(client: CallboardClient) -> None:
        for test in chosen:
            await client.delete_test(test.id)

    with_daemon(cli, delete)
    click.echo(f"deleted {what}")
