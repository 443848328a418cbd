"""``callboard demo``: the whole thing on the bundled helpers, no account needed, from any install.

It starts a daemon on a demo state dir (``<state dir>/demo``, apart from the user's data) whose settings
(``demo.toml`` there) point Twilio, voice tests' speech-to-text and the model at the telephony simulator
(Twilio's API, a Media Streams agent, a transcription endpoint and a scripted model); then the demo agent
and the simulator, tied to that daemon so stopping it stops them; imports the example suites shipped in
the package (pointed at the demo agent's port); then opens the TUI, or without a terminal runs every
example and prints the summary. Run again while all three are up, it reuses them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click
from rich.console import Console

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail, pass_cli
from callboard.core.cli.daemon_commands import stop_daemon
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.cli.demo_helpers import AGENT, SIMULATOR, HelperRecord, choose_port, start_helper
from callboard.core.cli.examples import example_files
from callboard.core.cli.follow import follow_batch
from callboard.core.cli.run_display import failures_table, summary_table
from callboard.core.client import CallboardClient, DaemonStartError, DaemonUnavailable, start_daemon
from callboard.core.models.api import BatchRequest, Health
from callboard.core.paths import DaemonPaths
from callboard.core.simulator.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from callboard.core.simulator.scripted_model import SCRIPTED_MODEL, SCRIPTED_MODEL_KEY

# The simulator's documented test account and a number of its own: not secrets.
_DEMO_SETTINGS = """# Written by `callboard demo`: the demo daemon's settings (Twilio: the bundled simulator).
[twilio]
account_sid = "{sid}"
auth_token = "{token}"
from_number = "+15550009999"
api_base_url = "{url}"
intelligence_base_url = "{url}"
intelligence_service_sid = "GA{zeros}"
poll_initial_s = 0.2

# Simulated users and judges: the simulator's scripted model and its own (not secret) key.
[llm]
base_url = "{url}/v1"
model = "{model}"
api_key = "{model_key}"

# Voice tests hear the simulator's Media Streams agent through its transcription endpoint.
[voice]
stt = "openai"
stt_url = "{url}/v1"
"""
# Where the example suites expect the demo agent.
_EXAMPLE_AGENT = "127.0.0.1:8700"


def _health(paths: DaemonPaths) -> Health | None:
    async def ask() -> Health | None:
        async with CallboardClient(paths.socket, timeout_s=5.0) as client:
            try:
                return await client.health()
            except DaemonUnavailable:
                return None

    return asyncio.run(ask())


def _start_everything(
    cli: CliContext, demo_state: Path, agent_port: int, simulator_port: int
) -> HelperRecord:
    """A fresh demo daemon, then its helpers (tied to it); returns where they are."""
    agent = choose_port(AGENT, agent_port)
    simulator = choose_port(SIMULATOR, simulator_port)
    _write_settings(demo_state, simulator)
    # The user's own Twilio environment must not send the demo's calls anywhere but the simulator.
    for name in [name for name in os.environ if name.startswith("CALLBOARD_TWILIO__")]:
        del os.environ[name]
    _use_demo_settings(cli, demo_state)
    try:
        health = asyncio.run(start_daemon(cli.settings, cli.daemon_args()))
    except DaemonStartError as exc:
        fail(f"the demo daemon could not start:\n{exc}")
    click.echo(f"started the demo daemon (pid {health.pid}) on {demo_state}", err=True)
    logs = cli.settings.log_dir
    start_helper(AGENT, agent, health.pid, logs / "demo-agent.log")
    start_helper(SIMULATOR, simulator, health.pid, logs / "simulator.log")
    record = HelperRecord(daemon_pid=health.pid, agent_port=agent, simulator_port=simulator)
    record.save(demo_state / "helpers.json")
    return record


def _write_settings(demo_state: Path, simulator_port: int) -> None:
    config = demo_state / "demo.toml"
    url = f"http://127.0.0.1:{simulator_port}"
    text = _DEMO_SETTINGS.format(
        sid=DEFAULT_ACCOUNT_SID,
        token=DEFAULT_AUTH_TOKEN,
        url=url,
        zeros="0" * 32,
        model=SCRIPTED_MODEL,
        model_key=SCRIPTED_MODEL_KEY,
    )
    config.write_text(text, encoding="utf-8")
    config.chmod(0o600)


def _use_demo_settings(cli: CliContext, demo_state: Path) -> None:
    if not (demo_state / "demo.toml").exists():
        _write_settings(demo_state, SIMULATOR.preferred_port)
    cli.config_file = demo_state / "demo.toml"
    cli.state_dir = demo_state
    cli.reset_settings()


def _demo_up(cli: CliContext, demo_state: Path, agent_port: int, simulator_port: int) -> HelperRecord:
    """The running demo when its daemon and both its helpers answer; else a fresh one."""
    _use_demo_settings(cli, demo_state)
    paths = DaemonPaths.of(cli.settings)
    health = _health(paths)
    record = HelperRecord.load(demo_state / "helpers.json")
    if (
        health is not None
        and record is not None
        and record.daemon_pid == health.pid
        and record.helpers_answer()
    ):
        click.echo(f"reusing the demo daemon (pid {health.pid}) and its helpers", err=True)
        return record
    if health is not None:
        click.echo(f"restarting the demo daemon (pid {health.pid}): its helpers are not all up", err=True)
        stop_daemon(paths, health.pid, cli.settings.engine.shutdown_grace_s + 10)
    return _start_everything(cli, demo_state, agent_port, simulator_port)


def _examples_for(record: HelperRecord, folder: Path) -> list[Path]:
    """The shipped examples, copied into the demo state dir and pointed at the demo agent's port."""
    folder.mkdir(mode=0o700, exist_ok=True)
    copies = []
    for source in example_files():
        copy = folder / source.name
        text = source.read_text(encoding="utf-8")
        copy.write_text(text.replace(_EXAMPLE_AGENT, f"127.0.0.1:{record.agent_port}"), encoding="utf-8")
        copies.append(copy)
    return copies


@click.command("demo")
@click.option(
    "--headless",
    is_flag=True,
    help="Run every example and print the summary (the default without a terminal).",
)
@click.option("--agent-port", type=click.IntRange(1, 65535), default=AGENT.preferred_port, show_default=True,
              help="The demo agent's port (a taken port is reported and another one picked).")  # fmt: skip
@click.option("--simulator-port", type=click.IntRange(1, 65535), default=SIMULATOR.preferred_port,
              show_default=True, help="The telephony simulator's port (likewise).")  # fmt: skip
@pass_cli
def demo_cmd(cli: CliContext, headless: bool, agent_port: int, simulator_port: int) -> None:
    """Start a demo daemon with the demo agent and the telephony simulator (stopping the daemon stops
    them), import the example suites, and open the TUI (or, without a terminal, run them all and print
    the summary). Its data lives in <state dir>/demo, apart from yours."""
    demo_state = cli.settings.state_dir / "demo"
    try:
        demo_state.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        fail(f"cannot make the demo state dir {demo_state}: {exc.strerror}", code=EXIT_USAGE)
    record = _demo_up(cli, demo_state, agent_port, simulator_port)
    files = _examples_for(record, demo_state / "examples")
    imported = with_daemon(cli, lambda client: client.import_tests(paths=files))
    count = len(imported.added) + len(imported.updated) + len(imported.unchanged)
    click.echo(f"imported {count} example tests", err=True)
    if not headless and sys.stdin.isatty() and sys.stdout.isatty():
        from callboard.tui.launch import run_tui

        run_tui(cli.settings, cli.daemon_args())
    else:
        with_daemon(cli, _run_every_example)
    options = f"--config {cli.config_file} --state-dir {demo_state}"
    click.echo(
        "The demo daemon keeps running with its demo agent and simulator (stopping it stops them):\n"
        f"  callboard {options} status | runs | show RUN | daemon stop",
        err=True,
    )


async def _run_every_example(client: CallboardClient) -> None:
    console = Console()
    after = (await client.queue()).last_event_id
    created = await client.create_batch(BatchRequest(all=True, label="demo", source="cli"))
    for skipped in created.skipped:
        console.print(f"[dim]skipped {skipped.test}: {skipped.reason}[/dim]")
    batch = await follow_batch(client, created.batch, after, console)
    report = await client.batch_report(batch.id)
    console.print(summary_table(batch, report.counts))
    if report.failures:
        console.print(failures_table(report.failures, report.total_failures))
