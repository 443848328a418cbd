"""Run the demo agent in its own process (for the demo, the benchmarks and the tests)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def demo_agent_process(latency_ms: float = 0.0, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Start the demo agent (port 0 picks a free one); yield its base URL; stop it on exit."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "callboard.core.demo",
            "--host",
            host,
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "demo agent listening on http://HOST:PORT (latency ...)"
        if "listening on " not in line:
            raise RuntimeError(f"the demo agent did not start: {line.strip() or 'no output'}")
        yield line.split("listening on ")[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=10)
