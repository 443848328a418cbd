"""``callboard demo-agent`` and ``callboard simulator``: the bundled demo agent the example suites
talk to, and the telephony simulator standing in for Twilio. A busy port is one line and exit 2."""

from __future__ import annotations

import errno
from collections.abc import Callable

import click

from callboard.core.cli.context import EXIT_USAGE, fail

# Errors that mean "this address cannot be listened on", as opposed to a fault while serving.
_LISTEN_ERRORS = (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)

_EXIT_WITH = click.option(
    "--exit-with",
    type=click.IntRange(1),
    hidden=True,
    help="Stop when the process with this pid ends (the demo ties its helpers to the demo daemon).",
)


def _serve(what: str, host: str, port: int, owner: int | None, serve: Callable[[], None]) -> None:
    if owner is not None:
        from callboard.core.cli.tether import exit_with

        exit_with(owner)
    try:
        serve()
    except OSError as exc:
        if exc.errno not in _LISTEN_ERRORS:
            raise
        why = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        fail(f"the {what} cannot listen on {host}:{port}: {why} (--port picks another)", code=EXIT_USAGE)


@click.command("demo-agent")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8700, show_default=True, help="0 picks a free port."
)
@click.option("--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, show_default=True,
              help="Delay before every answer.")  # fmt: skip
@_EXIT_WITH
def demo_agent_cmd(host: str, port: int, latency_ms: float, exit_with: int | None) -> None:
    """Serve the demo agent until interrupted (GET /health, GET /hours, POST /chat)."""
    from callboard.core.demo.app import run_demo_agent

    _serve("demo agent", host, port, exit_with, lambda: run_demo_agent(host, port, latency_ms))


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8710, show_default=True,
              help="0 picks a free port.")  # fmt: skip
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True),
              help="Real seconds per simulated second; 0.01 runs a minute in 0.6 s. "
                   "[default: 1, real time]")  # fmt: skip
@click.option("--cps", type=click.FloatRange(min=0, min_open=True),
              help="Calls-per-second cap; calls over it wait in the queue, as on Twilio. "
                   "[default: 5]")  # fmt: skip
@click.option("--reject-over-cps", is_flag=True,
              help="Answer 429 / 20429 over the CPS cap instead of queueing.")  # fmt: skip
@click.option("--max-concurrent", type=click.IntRange(1), help="Concurrent-calls cap (429 / 20429 over it).")
@_EXIT_WITH
def simulator_cmd(
    host: str,
    port: int,
    time_scale: float | None,
    cps: float | None,
    reject_over_cps: bool,
    max_concurrent: int | None,
    exit_with: int | None,
) -> None:
    """Serve the telephony simulator until interrupted: the part of Twilio's REST API that callboard
    uses, with simulated agents on fixed numbers (+15550100001 a clinic receptionist, +15550100006 a
    slow one, +15550100005 voicemail, ...). It runs in real time unless --time-scale says otherwise.

    \b
    Point callboard at it in the config file:
      [twilio]
      api_base_url = "http://127.0.0.1:8710"
      intelligence_base_url = "http://127.0.0.1:8710"
    """
    from callboard.core.simulator.config import SimulatorConfig
    from callboard.core.simulator.server import run_simulator

    overrides = {
        "time_scale": time_scale,
        "cps": cps,
        "cps_excess": "reject" if reject_over_cps else None,
        "max_concurrent_calls": max_concurrent,
    }
    config = SimulatorConfig.model_validate(
        {key: value for key, value in overrides.items() if value is not None}
    )
    _serve("telephony simulator", host, port, exit_with, lambda: run_simulator(host, port, config))
