"""``callboard demo-agent``: the bundled dental-clinic receptionist the example suites talk to."""

from __future__ import annotations

import click


@click.command("demo-agent")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8700, show_default=True, help="0 picks a free port."
)
@click.option("--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, show_default=True,
              help="Delay before every answer.")  # fmt: skip
def demo_agent_cmd(host: str, port: int, latency_ms: float) -> None:
    """Serve the demo agent until interrupted (GET /health, GET /hours, POST /chat)."""
    from callboard.core.demo.app import run_demo_agent

    run_demo_agent(host, port, latency_ms)


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8710, show_default=True,
              help="0 picks a free port.")  # fmt: skip
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True),
              help="Real seconds per simulated second (default: the simulator's own, fast).")  # fmt: skip
@click.option(
    "--cps", type=click.FloatRange(min=0, min_open=True), help="Calls-per-second cap (429/20429 over it)."
)
@click.option("--max-concurrent", type=click.IntRange(1), help="Concurrent-calls cap.")
def simulator_cmd(
    host: str, port: int, time_scale: float | None, cps: float | None, max_concurrent: int | None
) -> None:
    """Serve the telephony simulator: the part of Twilio's REST API callboard uses, with simulated
    agents on fixed numbers (see ``callboard.core.simulator``), until interrupted."""
    from callboard.core.simulator.config import SimulatorConfig
    from callboard.core.simulator.server import run_simulator

    overrides = {"time_scale": time_scale, "cps": cps, "max_concurrent_calls": max_concurrent}
    config = SimulatorConfig(**{key: value for key, value in overrides.items() if value is not None})
    run_simulator(host, port, config)
