"""kill -9 between a call's create and the commit of its SID: the restarted daemon finds the call on the
account and watches it, or ends the run ``call_create_unknown`` — it never dials a second time.

The simulator's fault hooks hold the create request (``create_answer_hold_s``: after the call is placed;
``create_hold_s``: before, and a client gone meanwhile gets no call), which opens the window to kill in.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from callboard.core.simulator import SimulatorConfig, simulator_process
from tests.api.conftest import DaemonProcess, start_daemon_process, wait_batch
from tests.telephony.support import ACCOUNT_SID, AUTH_TOKEN, CLINIC
from tests.telephony.test_calls_through_daemon import twilio_env

TEST = {
    "name": "clinic",
    "kind": "call",
    "phone": CLINIC,
    "caller": [{"pause": 2}, {"say": "What are your opening hours?"}, {"pause": 4}],
    "checks": [{"answered": True}, {"agent_says": "open"}],
}


@pytest.fixture
def held_after_placing() -> Iterator[str]:
    with simulator_process(SimulatorConfig(time_scale=0.05, create_answer_hold_s=5.0)) as url:
        yield url


@pytest.fixture
def held_before_placing() -> Iterator[str]:
    with simulator_process(SimulatorConfig(time_scale=0.05, create_hold_s=5.0)) as url:
        yield url


def _sim_calls(sim_url: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=sim_url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as sim:
        calls: list[dict[str, Any]] = sim.get("/_sim/calls").json()["calls"]
    return calls


def _intent_committed(state: Path) -> bool:
    """The daemon's database holds a dial intent and no call SID yet (read-only, beside the daemon)."""
    with sqlite3.connect(f"file:{state / 'callboard.db'}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM dial_intents JOIN runs ON runs.id = run_id WHERE runs.external_id IS NULL"
        ).fetchone()
    return bool(row[0])


def _start_and_kill_mid_create(state: Path, sim_url: str, ready: Any) -> tuple[int, int]:
    """Queue the test, wait until the create is in flight (intent committed, ``ready`` holds), kill -9."""
    daemon = start_daemon_process(state, **twilio_env(sim_url))
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"tests": [TEST]}).status_code == 200
        batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        run_id = http.get("/v1/runs").json()["runs"][0]["id"]
    deadline = time.monotonic() + 20
    while not (_intent_committed(state) and ready()):
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.02)
    daemon.stop(signal.SIGKILL)
    return batch_id, run_id


def _restart(state: Path, sim_url: str) -> DaemonProcess:
    return start_daemon_process(state, **twilio_env(sim_url))


def test_a_call_placed_before_the_kill_is_found_and_watched(tmp_path: Path, held_after_placing: str) -> None:
    state = tmp_path / "state"
    batch_id, run_id = _start_and_kill_mid_create(
        state, held_after_placing, lambda: len(_sim_calls(held_after_placing)) == 1
    )
    daemon = _restart(state, held_after_placing)
    try:
        with daemon.http() as http:
            batch = wait_batch(http, batch_id, timeout_s=90)
            run = http.get(f"/v1/runs/{run_id}").json()
    finally:
        daemon.stop()
    calls = _sim_calls(held_after_placing)
    assert len(calls) == 1, calls  # never dialled twice
    assert batch["counts"]["passed"] == 1, run
    # Watching the call again after the restart is a second execution of the run, and is counted.
    assert run["external_id"] == calls[0]["sid"] and run["attempt"] == 2


def test_a_create_that_never_placed_a_call_ends_call_create_unknown(
    tmp_path: Path, held_before_placing: str
) -> None:
    state = tmp_path / "state"
    batch_id, run_id = _start_and_kill_mid_create(state, held_before_placing, lambda: True)
    daemon = _restart(state, held_before_placing)
    try:
        with daemon.http() as http:
            wait_batch(http, batch_id, timeout_s=90)
            run = http.get(f"/v1/runs/{run_id}").json()
    finally:
        daemon.stop()
    assert (run["status"], run["error_kind"]) == ("error", "call_create_unknown"), run
    assert "not dialled again" in run["error_message"]
    time.sleep(0.5)  # a held create whose client went away must not place a call late either
    assert _sim_calls(held_before_placing) == []
