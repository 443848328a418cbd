"""``callboard run``: run tests to completion in this process, with live progress and a summary.

(The daemon will take this over; until then the batch runs here, and Ctrl-C puts what has not
finished back in the queue for the next run.)
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click
from rich.console import Console

from callboard.core.cli.context import CliContext, fail, pass_cli
from callboard.core.cli.local_store import open_store
from callboard.core.cli.run_display import BatchProgressBar, failures_table, summary_table
from callboard.core.engine.engine import Engine
from callboard.core.engine.selection import Selection, SelectionError
from callboard.core.engine.stack import running_engine
from callboard.core.models import RunStatus
from callboard.core.models.events import BatchProgress

EXIT_INTERRUPTED = 130
_FAILURES_SHOWN = 20


@click.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every stored test.")
@click.option("--tag", "tags", multiple=True, help="Run the tests with this tag (repeatable).")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first.")
@click.option("--repeat", type=click.IntRange(1, 1000), help="Trials per test (default: each test's own).")
@click.option(
    "--concurrency", type=click.IntRange(1, 4096), help="Runs at once (default: engine.concurrency)."
)
@pass_cli
def run_cmd(
    cli: CliContext,
    names: tuple[str, ...],
    run_all: bool,
    tags: tuple[str, ...],
    priority: int,
    repeat: int | None,
    concurrency: int | None,
) -> None:
    """Run tests by NAME, by --tag, or --all, and wait for them.

    Exit status 0 only when every run that ran passed (skipped tests do not count).
    """
    selection = Selection(names=names, tags=tags, all=run_all)
    if selection.empty:
        fail("nothing to run: give test names, --tag or --all", code=2)
    settings = cli.settings
    if concurrency is not None:
        settings.engine.concurrency = concurrency
    code = asyncio.run(_run(cli, selection, priority, repeat))
    raise SystemExit(code)


async def _run(cli: CliContext, selection: Selection, priority: int, repeat: int | None) -> int:
    console = Console()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with open_store(cli.settings) as store, running_engine(cli.settings, store) as engine:
        try:
            submitted = await engine.submit(selection, source="cli", priority=priority, repeat=repeat)
        except SelectionError as exc:
            fail(str(exc), code=2)
        batch = submitted.batch
        for name, reason in sorted(submitted.skipped.items()):
            console.print(f"[dim]skipped {name}: {reason}[/dim]")
        finished = await _follow(engine, batch.id, batch.counts.total, batch.label, console, stop)
        if not finished:
            console.print("[yellow]interrupted: unfinished runs go back to the queue[/yellow]")
            return EXIT_INTERRUPTED
        batch = await store.batches.get(batch.id)
        assert batch is not None
        console.print(summary_table(batch))
        failed = [RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED]
        failures = await store.runs.page(status=failed, batch_id=batch.id, limit=_FAILURES_SHOWN)
        not_passed = batch.counts.failed + batch.counts.error + batch.counts.cancelled
        if failures:
            console.print(failures_table(list(reversed(failures)), not_passed))
        return 0 if not_passed == 0 else 1


async def _follow(
    engine: Engine, batch_id: int, total: int, label: str, console: Console, stop: asyncio.Event
) -> bool:
    """Show progress until the batch is done (True) or the user interrupts (False)."""
    bar = BatchProgressBar(console, total, label)

    async def watch() -> None:
        async for event in engine.events.subscribe(last_id=0):
            if isinstance(event, BatchProgress) and event.batch_id == batch_id:
                bar.update(event)

    with bar.progress:
        watcher = asyncio.create_task(watch())
        done = asyncio.create_task(engine.wait_batch(batch_id))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([done, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in (watcher, stopper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if not done.done():
        done.cancel()
        return False
    return True
