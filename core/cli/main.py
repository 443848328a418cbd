"""Entry point: the ``callboard`` group. Subcommands are imported only when used, so
``callboard --help`` stays fast."""

from __future__ import annotations

import atexit
import gc
import importlib
import sys
from pathlib import Path

import click

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail

# name -> (module, attribute, one-line help); modules load only when their command runs.
_RUNS = "callboard.core.cli.runs_commands"
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "import": ("callboard.core.cli.suite_commands", "import_cmd", "Import TOML or CSV suite files."),
    "tests": ("callboard.core.cli.suite_commands", "tests_cmd", "List the stored tests."),
    "rm": ("callboard.core.cli.remove_command", "rm_cmd", "Delete tests by name or tag (asks first)."),
    "export-tests": ("callboard.core.cli.suite_commands", "export_cmd", "Write the stored tests as TOML."),
    "config": ("callboard.core.cli.config_commands", "config_group", "Inspect the settings."),
    "daemon": ("callboard.core.cli.daemon_commands", "daemon_group", "Run, start, stop or check the daemon."),
    "run": ("callboard.core.cli.run_command", "run_cmd", "Queue tests as a batch; --wait follows it."),
    "wait": (
        "callboard.core.cli.wait_command",
        "wait_cmd",
        "Follow a queued batch to its end (exit status as run --wait).",
    ),
    "schedule": (
        "callboard.core.cli.schedule_commands",
        "schedule_group",
        "Scheduled batches: add, list, remove, pause, resume, run-now.",
    ),
    "trends": (
        "callboard.core.cli.trends_command",
        "trends_cmd",
        "Pass rate per test over time; flaky tests.",
    ),
    "status": ("callboard.core.cli.status_command", "status_cmd", "What is running and queued (--watch)."),
    "runs": (_RUNS, "runs_cmd", "List runs, newest first."),
    "show": (_RUNS, "show_cmd", "Show one run: checks, transcript, metrics, error."),
    "cancel": (_RUNS, "cancel_cmd", "Cancel a run, a batch, or everything."),
    "retry": (_RUNS, "retry_cmd", "Run a run's test, or a batch's tests, again."),
    "pause": ("callboard.core.cli.queue_commands", "pause_cmd", "Start no new runs."),
    "prune": ("callboard.core.cli.prune_command", "prune_cmd", "Delete old history now (retention)."),
    "resume": ("callboard.core.cli.queue_commands", "resume_cmd", "Start runs again."),
    "export": (
        "callboard.core.cli.batch_commands",
        "export_cmd",
        "Write a batch's runs as CSV, JSON, JUnit or HTML.",
    ),
    "report": (
        "callboard.core.cli.batch_commands",
        "report_cmd",
        "Summarise a batch (--html FILE: a full report).",
    ),
    "demo": (
        "callboard.core.cli.demo_command",
        "demo_cmd",
        "Try it all on the bundled demo agent and telephony simulator.",
    ),
    "simulator": (
        "callboard.core.cli.serve_commands",
        "simulator_cmd",
        "Serve the telephony simulator (a stand-in for Twilio's API).",
    ),
    "demo-agent": (
        "callboard.core.cli.serve_commands",
        "demo_agent_cmd",
        "Serve the demo dental-clinic agent.",
    ),
    "store": (
        "callboard.core.cli.store_commands",
        "store_group",
        "The store itself: copy the SQLite history to PostgreSQL.",
    ),
    "worker": (
        "callboard.core.cli.worker_command",
        "worker_cmd",
        "Claim and execute runs from the PostgreSQL store (no API).",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module, attribute, _ = _COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        # What the imports made lives as long as the process: out of the collector's sight, its
        # passes while the command runs walk only what the command makes.
        gc.freeze()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, _, help_text) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="callboard", prog_name="callboard")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="CALLBOARD_CONFIG",
    help="TOML settings file (default: ./callboard.toml, then the user config dir).",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the database, logs and socket live (env CALLBOARD_STATE_DIR).",
)
@click.option(
    "--no-autostart",
    is_flag=True,
    envvar="CALLBOARD_NO_AUTOSTART",
    help="Fail instead of starting a daemon when none answers.",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, state_dir: Path | None, no_autostart: bool) -> None:
    """callboard: test voice agents and HTTP agents in batches, in the background.

    With no command it opens the TUI. Every command talks to the daemon of the state directory,
    starting it in the background when none answers.
    """
    cli_context = ctx.obj = CliContext(
        config_file=config_file, state_dir=state_dir, autostart=not no_autostart
    )
    if ctx.invoked_subcommand is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # e.g. `ssh host callboard`: a TUI without a terminal would hang or garble the output.
            fail(
                "no terminal for the TUI: give a command (callboard --help lists them), "
                "or get a terminal (ssh -t host callboard)",
                code=EXIT_USAGE,
            )
        from callboard.tui.launch import run_tui

        run_tui(cli_context.settings, cli_context.daemon_args(), autostart=cli_context.autostart)


def main() -> None:
    """Console-script entry point."""
    # The interpreter's last collection at exit would walk every object again to free memory the
    # system takes back anyway (tens of milliseconds for a command): frozen, it is skipped.
    atexit.register(gc.freeze)
    cli(prog_name="callboard")
