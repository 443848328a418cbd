"""``callboard demo``: the whole thing on the embedded defaults, no account needed.

It starts the bundled demo agent (HTTP, port 8700) and the telephony simulator (port 8710) in the
background unless they already answer, and a daemon on a separate demo state dir whose Twilio settings
point at the simulator; imports the example suites; then opens the TUI, or without a terminal runs
every example and prints the summary.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import click
from rich.console import Console

from callboard.core.cli.context import CliContext, fail, pass_cli
from callboard.core.cli.daemon_link import with_daemon
from callboard.core.cli.follow import follow_batch
from callboard.core.cli.run_display import failures_table, summary_table
from callboard.core.client import CallboardClient
from callboard.core.client.spawn import spawn_detached
from callboard.core.models.api import BatchRequest
from callboard.core.simulator.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from callboard.core.simulator.scripted_model import SCRIPTED_MODEL, SCRIPTED_MODEL_KEY

AGENT_PORT = 8700
SIMULATOR_PORT = 8710
# One simulated second takes 0.2 real seconds: an example call lasts a few seconds.
SIM_TIME_SCALE = "0.2"
_START_TIMEOUT_S = 20.0


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _ensure(name: str, port: int, args: list[str], log: Path) -> None:
    if _answers(port):
        return
    process = spawn_detached(args, log)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            fail(f"the {name} did not start on port {port}; see {log}")
        time.sleep(0.05)
    click.echo(f"started the {name} on 127.0.0.1:{port} (pid {process.pid})", err=True)


def _examples() -> Path:
    # A checkout (pip install -e .) keeps them next to the code; a copy in the current folder wins.
    for candidate in (Path.cwd() / "examples", Path(__file__).resolve().parents[2] / "examples"):
        if candidate.is_dir():
            return candidate
    fail("cannot find the examples folder; run callboard demo from a checkout of callboard")


def _point_daemon_at_simulator(cli: CliContext) -> None:
    """The demo daemon's settings (environment, passed on to the daemon it starts)."""
    demo_state = cli.settings.state_dir / "demo"
    url = f"http://127.0.0.1:{SIMULATOR_PORT}"
    os.environ.update({
        "CALLBOARD_STATE_DIR": str(demo_state),
        # The simulator's own test account: not a secret.
        "CALLBOARD_TWILIO__ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "CALLBOARD_TWILIO__AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "CALLBOARD_TWILIO__FROM_NUMBER": "+15550009999",
        "CALLBOARD_TWILIO__API_BASE_URL": url,
        "CALLBOARD_TWILIO__INTELLIGENCE_BASE_URL": url,
        "CALLBOARD_TWILIO__INTELLIGENCE_SERVICE_SID": "GA" + "0" * 32,
        "CALLBOARD_TWILIO__POLL_INITIAL_S": "0.2",
        # Simulated users and judges: the simulator's scripted model and its own (not secret) key.
        "CALLBOARD_LLM__BASE_URL": f"{url}/v1",
        "CALLBOARD_LLM__MODEL": SCRIPTED_MODEL,
        "CALLBOARD_LLM__API_KEY": SCRIPTED_MODEL_KEY,
    })  # fmt: skip
    cli.state_dir = demo_state
    cli.reset_settings()


@click.command("demo")
@click.option(
    "--headless",
    is_flag=True,
    help="Run every example and print the summary (the default without a terminal).",
)
@pass_cli
def demo_cmd(cli: CliContext, headless: bool) -> None:
    """Start the demo agent, the telephony simulator and a demo daemon, import the examples, and open
    the TUI (or, without a terminal, run them all and print the summary). Its data lives in
    <state dir>/demo, apart from yours."""
    log_dir = cli.settings.log_dir
    agent = ["-m", "callboard.core.demo", "--port", str(AGENT_PORT), "--latency-ms", "20"]
    _ensure("demo agent", AGENT_PORT, agent, log_dir / "demo-agent.log")
    simulator = [
        "-m",
        "callboard.core.simulator",
        "--port",
        str(SIMULATOR_PORT),
        "--time-scale",
        SIM_TIME_SCALE,
    ]
    _ensure("telephony simulator", SIMULATOR_PORT, simulator, log_dir / "simulator.log")
    _point_daemon_at_simulator(cli)
    examples = _examples()
    files = sorted(examples.glob("*.toml")) + sorted(examples.glob("*.csv"))
    imported = with_daemon(cli, lambda client: client.import_tests(paths=files))
    click.echo(
        f"imported {len(imported.added) + len(imported.updated) + len(imported.unchanged)} example tests",
        err=True,
    )
    if not headless and sys.stdin.isatty() and sys.stdout.isatty():
        from callboard.tui.launch import run_tui

        run_tui(cli.settings, cli.daemon_args())
        return
    console = Console()

    async def run_all(client: CallboardClient) -> None:
        after = (await client.queue()).last_event_id
        created = await client.create_batch(BatchRequest(all=True, label="demo", source="cli"))
        for skipped in created.skipped:
            console.print(f"[dim]skipped {skipped.test}: {skipped.reason}[/dim]")
        batch = await follow_batch(client, created.batch, after, console)
        report = await client.batch_report(batch.id)
        console.print(summary_table(batch, report.counts))
        if report.failures:
            console.print(failures_table(report.failures, report.total_failures))

    with_daemon(cli, run_all)
    console.print("The demo daemon keeps running: callboard --state-dir "
                  f"{cli.settings.state_dir} status | runs | show RUN | daemon stop")  # fmt: skip
