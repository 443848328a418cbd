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
