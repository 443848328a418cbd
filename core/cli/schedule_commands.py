"""``callboard schedule``: add, list, remove, pause, resume and run-now scheduled batches."""

from __future__ import annotations

import re

import click
from pydantic import ValidationError
from rich.table import Table

from callboard.core.cli.batch_options import batch_options
from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.cli.times import local_time
from callboard.core.client import CallboardClient
from callboard.core.literal import literal_cells, plain_console
from callboard.core.models.schedules import ScheduleSpec, ScheduleView
from callboard.core.wording import percent, plural

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> float:
    match = _DURATION.match(text.strip())
    if match is None:
        raise click.BadParameter(f"{text!r}: use seconds or a number with s, m, h or d (e.g. 90, 15m, 1h)")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


# The options that set each field, so errors speak of what the user typed.
_OPTIONS = {
    "name": "NAME",
    "cron": "--cron",
    "interval_s": "--every",
    "timezone": "--tz",
    "tags": "--tag",
    "names": "--test",
    "all": "--all",
    "misfire_grace_s": "--grace",
    "priority": "--priority",
    "repeat": "--repeat",
}


def _describe(exc: ValidationError) -> str:
    """The errors of a schedule spec in the CLI's own terms (no pydantic dump, no links)."""
    lines = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        for field, option in _OPTIONS.items():
            message = re.sub(rf"\b{field}\b", option, message)
        where = _OPTIONS.get(str(error["loc"][0]), str(error["loc"][0])) if error["loc"] else ""
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)


async def _find(client: CallboardClient, ref: str) -> ScheduleView:
    for view in await client.list_schedules():
        if view.schedule.name == ref or str(view.schedule.id) == ref:
            return view
    fail(f"no schedule named or numbered {ref!r}")


@click.group("schedule")
def schedule_group() -> None:
    """Scheduled batches: cron (five fields, weekday 0 and 7 = Sunday) or a fixed interval."""


@schedule_group.command("add")
@click.argument("name")
@click.option("--cron", help='Five-field cron, e.g. "0 2 * * *" (2:00 every night).')
@click.option("--every", help="A fixed interval: seconds, or 30s, 15m, 6h, 1d.")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="IANA time zone of the cron fields.")
@click.option("--tag", "tags", multiple=True, help="Run the tests with this tag (repeatable).")
@click.option("--test", "names", multiple=True, help="Run this test (repeatable).")
@click.option("--all", "run_all", is_flag=True, help="Run every test.")
@click.option("--grace", help="Run a slot missed while the daemon was down if this late (default: settings).")
@click.option("--allow-overlap", is_flag=True, help="Fire even when the previous batch is still running.")
@batch_options
@pass_cli
def add_cmd(
    cli: CliContext,
    name: str,
    cron: str | None,
    every: str | None,
    timezone: str,
    tags: tuple[str, ...],
    names: tuple[str, ...],
    run_all: bool,
    grace: str | None,
    allow_overlap: bool,
    priority: int,
    repeat: int | None,
) -> None:
    """Add schedule NAME; its batches run with --priority and --repeat."""
    try:
        spec = ScheduleSpec(
            name=name,
            cron=cron,
            interval_s=_seconds(every) if every else None,
            timezone=timezone,
            tags=list(tags),
            names=list(names),
            all=run_all,
            misfire_grace_s=_seconds(grace) if grace else None,
            overlap="allow" if allow_overlap else "skip",
            priority=priority,
            repeat=repeat,
        )
    except ValidationError as exc:
        fail(f"schedule {name!r}: {_describe(exc)}", code=EXIT_USAGE)
    view = with_daemon(cli, lambda client: client.create_schedule(spec))
    next_at = view.schedule.next_fire_at
    click.echo(
        f"schedule {view.schedule.id} {name!r} added; next run {local_time(next_at) if next_at else '-'}"
    )


@schedule_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_cli
def list_cmd(cli: CliContext, as_json: bool) -> None:
    """Schedules with their timing, next fire time and last batch."""
    views = with_daemon(cli, lambda client: client.list_schedules())
    if as_json:
        click.echo("[" + ",".join(view.model_dump_json() for view in views) + "]")
        return
    table = Table("id", "name", "when", "runs", "state", "next", "last batch", "pass", title="schedules")
    for view in views:
        schedule, batch = view.schedule, view.last_batch
        when = schedule.cron or f"every {schedule.interval_s:g}s"
        selected = ", ".join([*schedule.names, *(f"tag:{t}" for t in schedule.tags)]) or "all"
        table.add_row(
            *literal_cells(
                schedule.id,
                schedule.name,
                f"{when} ({schedule.timezone})",
                selected,
                "active" if schedule.enabled else "paused",
                local_time(schedule.next_fire_at) if schedule.next_fire_at else "-",
                f"{batch.id} ({batch.status})" if batch else "-",
                percent(batch.counts.pass_rate) if batch else "-",
            )
        )
    plain_console().print(table)


@schedule_group.command("remove")
@click.argument("ref")
@pass_cli
def remove_cmd(cli: CliContext, ref: str) -> None:
    """Remove schedule REF (name or id); its batches stay."""

    async def remove(client: CallboardClient) -> str:
        view = await _find(client, ref)
        await client.delete_schedule(view.schedule.id)
        return view.schedule.name

    click.echo(f"removed schedule {with_daemon(cli, remove)!r}")


def _toggle(*, enabled: bool) -> click.Command:
    verb = "resume" if enabled else "pause"

    @click.command(verb, help=f"{verb.capitalize()} schedule REF (name or id).")
    @click.argument("ref")
    @pass_cli
    def toggle(cli: CliContext, ref: str) -> None:
        async def act(client: CallboardClient) -> ScheduleView:
            return await client.set_schedule_enabled((await _find(client, ref)).schedule.id, enabled=enabled)

        view = with_daemon(cli, act)
        click.echo(f"schedule {view.schedule.name!r} {'active' if view.schedule.enabled else 'paused'}")

    return toggle


schedule_group.add_command(_toggle(enabled=False))
schedule_group.add_command(_toggle(enabled=True))


@schedule_group.command("run-now")
@click.argument("ref")
@pass_cli
def run_now_cmd(cli: CliContext, ref: str) -> None:
    """Queue schedule REF's batch now (its next slot stays)."""

    async def run(client: CallboardClient) -> str:
        created = await client.run_schedule((await _find(client, ref)).schedule.id)
        return f"batch {created.batch.id} queued: {plural(created.batch.counts.total, 'run')}"

    click.echo(with_daemon(cli, run))
