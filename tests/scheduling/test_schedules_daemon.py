"""Schedules in a real daemon: a real interval schedule of a second, a restart across fire times (one
catch-up, the rest recorded missed, no slot twice), overlap skipping, pause and run-now."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import DaemonProcess, start_daemon_process


def _command_test(name: str, command: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "command",
        "tags": ["sched"],
        "command": command,
        "checks": [{"exit_code": 0}],
    }


def _setup(daemon: DaemonProcess, command: str, **schedule: Any) -> dict[str, Any]:
    with daemon.http() as http:
        assert (
            http.post("/v1/tests/import", json={"tests": [_command_test("quick", command)]}).status_code
            == 200
        )
        created = http.post("/v1/schedules", json={"name": "every-second", "tags": ["sched"], **schedule})
        assert created.status_code == 201, created.text
        return created.json()


def _fires(state: Path) -> list[tuple[str, str, int | None]]:
    with sqlite3.connect(state / "callboard.db") as db:
        return db.execute("SELECT slot, outcome, batch_id FROM schedule_fires ORDER BY slot").fetchall()


def _wait_for(http: httpx.Client, predicate: Any, timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate(http)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_interval_schedule_fires_and_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    daemon = start_daemon_process(state)
    view = _setup(daemon, "true", interval_s=1, misfire_grace_s=30)
    assert view["schedule"]["next_fire_at"] is not None
    with daemon.http() as http:
        _wait_for(http, lambda h: len(h.get("/v1/batches").json()["batches"]) >= 2)
        batches = http.get("/v1/batches").json()["batches"]
        assert {b["source"] for b in batches} == {"schedule"}
        assert {b["schedule_id"] for b in batches} == {view["schedule"]["id"]}
    assert daemon.stop(signal.SIGTERM) == 0
    fired_before = [fire for fire in _fires(state) if fire[1] == "fired"]
    time.sleep(3.5)  # three or so slots come due while the daemon is down
    daemon = start_daemon_process(state)
    try:
        with daemon.http() as http:
            listed = http.get("/v1/schedules").json()["schedules"][0]
            assert listed["last_batch"]["source"] == "schedule"
            outcomes = [fire["outcome"] for fire in listed["recent_fires"]]
            assert "missed" in outcomes
    finally:
        daemon.stop()
    fires = _fires(state)
    slots = [slot for slot, _, _ in fires]
    assert len(slots) == len(set(slots))
    after_restart = [fire for fire in fires if fire[0] > fired_before[-1][0]]
    # The newest overdue slot ran once at start (within the grace); the older ones are only recorded.
    assert [outcome for _, outcome, _ in after_restart][:3].count("fired") <= 1
    assert "missed" in [outcome for _, outcome, _ in after_restart]
    with sqlite3.connect(state / "callboard.db") as db:
        batches = db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    assert batches == sum(1 for _, outcome, _ in fires if outcome == "fired")


def test_without_grace_missed_slots_are_not_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    daemon = start_daemon_process(state)
    _setup(daemon, "true", interval_s=1, misfire_grace_s=0)
    with daemon.http() as http:
        _wait_for(http, lambda h: h.get("/v1/batches").json()["batches"])
    daemon.stop()
    last_slot = _fires(state)[-1][0]
    time.sleep(2.5)
    daemon = start_daemon_process(state)
    try:
        time.sleep(0.3)
        with daemon.http() as http:
            http.post("/v1/schedules/1/pause")
    finally:
        daemon.stop()
    late = [fire for fire in _fires(state) if fire[0] > last_slot]
    assert late and late[0][1] == "missed"


def test_overlap_skips_while_the_previous_batch_runs(tmp_path: Path) -> None:
    daemon = start_daemon_process(tmp_path / "state")
    try:
        view = _setup(daemon, "sleep 2.5", interval_s=1)
        schedule_id = view["schedule"]["id"]
        with daemon.http() as http:

            def outcomes(h: httpx.Client) -> list[str]:
                return [f["outcome"] for f in h.get(f"/v1/schedules/{schedule_id}").json()["recent_fires"]]

            _wait_for(http, lambda h: "skipped_overlap" in outcomes(h))
            paused = http.post(f"/v1/schedules/{schedule_id}/pause").json()
            assert paused["schedule"]["enabled"] is False and paused["schedule"]["next_fire_at"] is None
            manual = http.post(f"/v1/schedules/{schedule_id}/run")
            assert manual.status_code == 202 and manual.json()["batch"]["source"] == "schedule"
            assert (
                http.post("/v1/schedules", json={"name": "x", "cron": "0 0 * * 8", "all": True}).status_code
                == 422
            )
            assert (
                http.post(
                    "/v1/schedules", json={"name": "every-second", "interval_s": 5, "all": True}
                ).status_code
                == 409
            )
            assert http.delete(f"/v1/schedules/{schedule_id}").status_code == 204
            assert http.get(f"/v1/schedules/{schedule_id}").status_code == 404
    finally:
        daemon.stop()
