"""Through the whole daemon: a call test run as several trials has its turn latencies pooled in the
batch report, and the slow receptionist's first word is measured from the answer."""

from __future__ import annotations

from pathlib import Path

import httpx

from callboard.core.simulator import SimulatorConfig, simulator_process
from tests.api.conftest import start_daemon_process, wait_batch
from tests.telephony.support import CLINIC, SLOW
from tests.telephony.test_calls_through_daemon import twilio_env

SCRIPT = [{"pause": 1}, {"say": "I'd like to book a cleaning"}, {"pause": 5}, {"say": "Tuesday at 3pm"},
          {"pause": 6}]  # fmt: skip


def test_trials_are_pooled_and_first_word_survives_trimming(tmp_path: Path) -> None:
    # The simulator trims recordings by default, as Twilio does.
    with simulator_process(SimulatorConfig(time_scale=0.02)) as sim_url:
        daemon = start_daemon_process(tmp_path / "state", **twilio_env(sim_url, TWILIO__CPS="10"))
        try:
            tests = [
                {"name": "books", "kind": "call", "phone": CLINIC, "caller": SCRIPT, "repeat": 3},
                {"name": "slow", "kind": "call", "phone": SLOW, "caller": [{"pause": 6}, {"say": "Hello"},
                                                                            {"pause": 5}]},
            ]  # fmt: skip
            with daemon.http() as http:
                assert http.post("/v1/tests/import", json={"tests": tests}).status_code == 200
                batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
                wait_batch(http, batch_id, timeout_s=120)
                report = http.get(f"/v1/batches/{batch_id}/report").json()
                runs = http.get("/v1/runs").json()["runs"]
                slow = http.get(f"/v1/runs/{next(r['id'] for r in runs if r['test_name'] == 'slow')}").json()
        finally:
            daemon.stop()
        with httpx.Client(base_url=sim_url, auth=twilio_auth()) as sim:
            assert len(sim.get("/_sim/calls").json()["calls"]) == 4
    pooled = {entry["test_name"]: entry for entry in report["turn_latency"]}
    assert pooled["books"]["runs"] == 3 and pooled["books"]["turns"] == 6
    assert pooled["books"]["p50_ms"] == 1000.0  # the clinic answers each line after 1 s
    assert 3900 <= slow["metrics"]["first_word_ms"] <= 4100


def twilio_auth() -> tuple[str, str]:
    env = twilio_env("")
    return env["TWILIO__ACCOUNT_SID"], env["TWILIO__AUTH_TOKEN"]
