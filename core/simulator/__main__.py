"""``python -m callboard.core.simulator --port 8710 --time-scale 0.01`` runs the telephony simulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import SecretStr, ValidationError

from callboard.core.simulator.config import SimulatorConfig
from callboard.core.simulator.server import DEFAULT_PORT, run_simulator


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m callboard.core.simulator",
        description="Serve the telephony simulator (real time unless --time-scale says otherwise).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port; 0 picks a free one")
    parser.add_argument("--config", help="a JSON file of SimulatorConfig fields, or - to read it from stdin")
    parser.add_argument(
        "--time-scale", type=float, help="real seconds per simulated second (default 1, real time; e.g. 0.01)"
    )
    parser.add_argument("--account-sid", help="the account SID to accept (AC + 32 hex)")
    parser.add_argument("--auth-token", help="the auth token to accept")
    parser.add_argument("--cps", type=float, help="calls-per-second cap")
    parser.add_argument("--max-concurrent", type=int, help="concurrent-calls cap")
    args = parser.parse_args()
    try:
        config = _config(args)
    except (OSError, ValidationError) as exc:
        parser.exit(2, f"python -m callboard.core.simulator: bad configuration: {exc}\n")
    run_simulator(args.host, args.port, config)


def _config(args: argparse.Namespace) -> SimulatorConfig:
    """The --config JSON (if any) with the command-line options on top."""
    if args.config == "-":
        config = SimulatorConfig.model_validate_json(sys.stdin.read() or "{}")
    elif args.config:
        config = SimulatorConfig.model_validate_json(Path(args.config).read_text())
    else:
        config = SimulatorConfig()
    overrides = {
        "time_scale": args.time_scale,
        "account_sid": args.account_sid,
        "auth_token": SecretStr(args.auth_token) if args.auth_token else None,
        "cps": args.cps,
        "max_concurrent_calls": args.max_concurrent,
    }
    data = config.model_dump()
    data.update({name: value for name, value in overrides.items() if value is not None})
    # Validate again so command-line values get the same checks as the file's.
    return SimulatorConfig.model_validate(data)


main()
