"""The simulator as its own process: the context manager and ``python -m callboard.core.simulator``."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
from twilio.rest import Client

from callboard.core.simulator import simulator_process
from tests.simulator.helpers import CALLER_ID, CLINIC, FINAL, config, wait_for
from tests.simulator.twilio_support import SimulatorHttpClient

ACCOUNT = "AC" + "12" * 16
TOKEN = "not-the-default-token"


def test_simulator_process_takes_its_config_on_stdin() -> None:
    with simulator_process(config(account_sid=ACCOUNT, auth_token=TOKEN)) as url:
        assert httpx.get(f"{url}/_sim/health").json() == {"status": "ok", "time_scale": 0.002}
        twilio = Client(ACCOUNT, TOKEN, http_client=SimulatorHttpClient(url))
        call = twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml="<Response><Say>hi</Say></Response>")
        assert wait_for(call.fetch, lambda fetched: fetched.status in FINAL).status == "completed"


def test_command_line_options() -> None:
    command = [sys.executable, "-m", "callboard.core.simulator", "--port", "0", "--time-scale", "0.5"]
    command += ["--account-sid", ACCOUNT, "--auth-token", TOKEN, "--cps", "3", "--max-concurrent", "7"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line and ACCOUNT in line
        url = line.split("listening on ")[1].split()[0]
        assert httpx.get(f"{url}/_sim/health").json()["time_scale"] == 0.5
        assert httpx.get(f"{url}/_sim/calls", auth=(ACCOUNT, TOKEN)).json() == {"calls": []}
    finally:
        process.terminate()
        # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says how it ended.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)


def test_bad_options_are_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "callboard.core.simulator", "--port", "0", "--time-scale", "-1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "bad configuration" in result.stderr and "time_scale" in result.stderr
