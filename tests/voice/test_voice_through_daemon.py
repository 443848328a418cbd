"""A voice test through the whole daemon (its own process) against the simulator (another process): the
run's metrics, its private recording under the state dir, and ``callboard show`` with the turn timeline."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from callboard.core.simulator import simulator_process
from tests.api.conftest import start_daemon_process, wait_batch
from tests.voice.support import ws_url


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with simulator_process() as url:
        yield url


def test_a_voice_run_through_the_daemon_and_shown_by_the_cli(tmp_path: Path, sim_url: str) -> None:
    state = tmp_path / "state"
    daemon = start_daemon_process(state, VOICE__STT="openai", VOICE__STT_URL=sim_url + "/v1")
    test = {
        "name": "voice-booking",
        "kind": "voice",
        "endpoint": {"url": ws_url(sim_url)},
        "caller": [
            {"wait": "agent"},
            {"say": "I'd like to book a cleaning"},
            {"wait": "agent"},
            {"hangup": True},
        ],
        "checks": [{"first_word_ms_below": 1500}, {"agent_says": "when would you like to come in"}],
    }
    try:
        with daemon.http() as http:
            assert http.post("/v1/tests/import", json={"tests": [test]}).status_code == 200
            batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
            batch = wait_batch(http, batch_id, timeout_s=90)
            [run] = http.get("/v1/runs").json()["runs"]
            run = http.get(f"/v1/runs/{run['id']}").json()
        assert batch["counts"]["passed"] == 1, run
        assert run["kind"] == "voice" and run["target"] == ws_url(sim_url)
        assert {"first_word_ms", "turn_latency_ms.1", "turn_latency_p50_ms", "duration_s"} <= set(
            run["metrics"]
        )
        recording = Path(run["artifacts"]["recording"])
        assert recording.parent == state / "recordings" and stat.S_IMODE(recording.stat().st_mode) == 0o600
        env = {**daemon.env, "COLUMNS": "160"}
        shown = subprocess.run(
            [sys.executable, "-m", "callboard.core", "show", str(run["id"])],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert shown.returncode == 0, shown.stderr
        assert "turn timeline" in shown.stdout
        assert "I'd like to book a cleaning" in shown.stdout
        latency = run["metrics"]["turn_latency_ms.1"]
        assert f"{latency:.0f} ms" in shown.stdout  # the agent's reply, with the wait before it
    finally:
        daemon.stop()
