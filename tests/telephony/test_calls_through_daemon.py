"""Call tests through the whole daemon, against the simulator in its own process: outcomes, guardrails,
CPS pacing, and kill -9 in the middle of a call (the call is watched again, never dialled twice)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from callboard.core.simulator import DEFAULT_NUMBERS, NumberBehaviour, SimulatorConfig, simulator_process
from tests.api.conftest import DaemonProcess, start_daemon_process, wait_batch
from tests.telephony.support import ACCOUNT_SID, AUTH_TOKEN, BUSY, CLINIC, FROM_NUMBER, SERVICE_SID

LONG_CALL = "+15559990002"  # test-only: answers after 1 s, the script keeps it going ~20 simulated s


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    """The simulator in its own process: 1 simulated second = 50 ms; CPS 5 like a paid account."""
    numbers = {**DEFAULT_NUMBERS, LONG_CALL: NumberBehaviour(ring_s=1.0, description="long call")}
    config = SimulatorConfig(time_scale=0.05, cps=5.0, max_concurrent_calls=100, numbers=numbers)
    with simulator_process(config) as url:
        yield url


@pytest.fixture
def sim(sim_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10) as client:
        client.post("/_sim/reset")
        yield client


def twilio_env(sim_url: str, **extra: str) -> dict[str, str]:
    """Daemon settings pointing callboard's Twilio client at the simulator."""
    return {
        "TWILIO__ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO__AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO__FROM_NUMBER": FROM_NUMBER,
        "TWILIO__API_BASE_URL": sim_url,
        "TWILIO__INTELLIGENCE_BASE_URL": sim_url,
        "TWILIO__INTELLIGENCE_SERVICE_SID": SERVICE_SID,
        "TWILIO__POLL_INITIAL_S": "0.05",
        "TWILIO__POLL_MAX_S": "0.2",
        **extra,
    }


def call_test(name: str, phone: str | None, checks: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    script = [{"pause": 1}, {"say": "Hi, what are your opening hours?"}, {"pause": 4}]
    return {"name": name, "kind": "call", "phone": phone, "caller": script, "checks": checks, **fields}


def _import(daemon: DaemonProcess, tests: list[dict[str, Any]]) -> None:
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"tests": tests}).status_code == 200


def test_call_outcomes_and_guardrails(tmp_path: Path, sim_url: str, sim: httpx.Client) -> None:
    daemon = start_daemon_process(
        tmp_path / "state", **twilio_env(sim_url, TWILIO__ALLOWED_NUMBERS='["+1555010"]', TWILIO__CPS="5")
    )
    try:
        _import(daemon, [
            call_test("clinic", CLINIC, [{"answered": True}, {"agent_says": "open"},
                                         {"first_word_ms_below": 5000}]),
            call_test("busy", BUSY, [{"answered": False}]),
            call_test("no-number", None, [{"answered": True}]),
            call_test("elsewhere", "+15557770000", [{"answered": True}]),
        ])  # fmt: skip
        with daemon.http() as http:
            created = http.post("/v1/batches", json={"all": True}).json()
            reasons = {s["test"]: s["reason"] for s in created["skipped"]}
            assert reasons == {
                "no-number": "no phone number",
                "elsewhere": "+15557770000 is not in twilio.allowed_numbers",
            }
            batch = wait_batch(http, created["batch"]["id"], timeout_s=120)
            assert batch["counts"]["passed"] == 2, http.get("/v1/runs").json()
            runs = {run["test_name"]: run for run in http.get("/v1/runs").json()["runs"]}
            clinic = http.get(f"/v1/runs/{runs['clinic']['id']}").json()
        assert clinic["external_id"].startswith("CA")
        assert {entry["speaker"] for entry in clinic["transcript"]} == {"caller", "agent"}
        assert clinic["metrics"]["first_word_ms"] > 0 and clinic["artifacts"]["recording_sid"].startswith(
            "RE"
        )
        assert [call["to"] for call in sim.get("/_sim/calls").json()["calls"]] == [BUSY, CLINIC]
    finally:
        daemon.stop()


def test_cps_is_respected_and_the_budget_skips_the_rest(
    tmp_path: Path, sim_url: str, sim: httpx.Client
) -> None:
    daemon = start_daemon_process(tmp_path / "state", **twilio_env(sim_url, TWILIO__CPS="4",
                                                                   TWILIO__BATCH_MAX_CALLS="12"))  # fmt: skip
    try:
        _import(daemon, [call_test(f"busy-{i:02d}", BUSY, [{"answered": False}]) for i in range(16)])
        with daemon.http() as http:
            batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
            batch = wait_batch(http, batch_id, timeout_s=120)
        assert batch["counts"]["passed"] == 12 and batch["counts"]["skipped"] == 4
        calls = sim.get("/_sim/calls").json()["calls"]
        assert len(calls) == 12 and all(call["error_code"] != 20429 for call in calls)
        created = sorted(datetime.fromisoformat(call["date_created"]).timestamp() for call in calls)
        # The simulator's clock runs 20x fast: 12 calls at 4/s take at least ~2.75 real seconds,
        # i.e. ~55 simulated seconds (a burst of up to 4 may start at once).
        assert created[-1] - created[0] >= (12 - 4) / 4 * 20 * 0.9
    finally:
        daemon.stop()


def test_kill_9_during_a_call_never_dials_twice(tmp_path: Path, sim_url: str, sim: httpx.Client) -> None:
    state = tmp_path / "state"
    env = twilio_env(sim_url)
    daemon = start_daemon_process(state, **env)
    script = [{"pause": 2}, {"say": "I would like to book an appointment"}, {"pause": 12}, {"hangup": True}]
    _import(daemon, [{"name": "long", "kind": "call", "phone": LONG_CALL, "caller": script,
                      "checks": [{"answered": True}, {"agent_says": "when would you like"}]}])  # fmt: skip
    with daemon.http() as http:
        batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        deadline = time.monotonic() + 30
        while not http.get("/v1/runs").json()["runs"][0].get("started_at"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        run_id = http.get("/v1/runs").json()["runs"][0]["id"]
        while http.get(f"/v1/runs/{run_id}").json()["external_id"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert sim.get("/_sim/calls").json()["calls"][0]["status"] in ("queued", "ringing", "in-progress")
    daemon.stop(signal.SIGKILL)
    daemon = start_daemon_process(state, **env)
    try:
        with daemon.http() as http:
            batch = wait_batch(http, batch_id, timeout_s=120)
            run = http.get(f"/v1/runs/{run_id}").json()
        assert batch["counts"]["passed"] == 1, run
        assert run["attempt"] == 2  # the resume after the kill is counted (attempts count from 1)
        calls = sim.get("/_sim/calls").json()["calls"]
        assert len(calls) == 1 and calls[0]["sid"] == run["external_id"]
    finally:
        daemon.stop()


def test_cancel_hangs_up(tmp_path: Path, sim_url: str, sim: httpx.Client) -> None:
    daemon = start_daemon_process(tmp_path / "state", **twilio_env(sim_url))
    script = [{"pause": 2}, {"say": "Hello"}, {"pause": 60}]
    _import(daemon, [{"name": "long", "kind": "call", "phone": LONG_CALL, "caller": script}])
    try:
        with daemon.http() as http:
            batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
            deadline = time.monotonic() + 30
            while not sim.get("/_sim/calls").json()["calls"]:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            time.sleep(0.3)
            assert http.post(f"/v1/batches/{batch_id}/cancel").json() == {"cancelled": 1}
            assert wait_batch(http, batch_id)["status"] == "cancelled"
        deadline = time.monotonic() + 10
        while sim.get("/_sim/calls").json()["calls"][0]["status"] not in ("completed", "canceled"):
            assert time.monotonic() < deadline, sim.get("/_sim/calls").json()
            time.sleep(0.05)
    finally:
        daemon.stop()
