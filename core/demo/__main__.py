"""``python -m callboard.core.demo --port 8700 --latency-ms 20`` runs the demo agent."""

import argparse

from callboard.core.demo.app import run_demo_agent


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m callboard.core.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port to listen on; 0 picks a free one")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every answer")
    args = parser.parse_args()
    run_demo_agent(args.host, args.port, args.latency_ms)


main()
