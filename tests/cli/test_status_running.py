"""``callboard status`` while a long run goes on: how long each running run has been going, and an ETA
that is not "0s" after the quick runs of its batch have finished."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import tomli_w

from tests.conftest import CliRunner

QUICK = [{"name": f"quick-{i}", "kind": "command", "tags": ["mix"], "command": "true"} for i in range(4)]
LONG = {"name": "long-one", "kind": "command", "tags": ["mix"], "command": "sleep 30", "timeout_s": 60}


def test_status_shows_elapsed_time_and_a_live_eta(run_cli: CliRunner, tmp_path: Path) -> None:
    suite = tmp_path / "mix.toml"
    suite.write_text(tomli_w.dumps({"test": [*QUICK, LONG]}))
    assert run_cli("import", str(suite)).returncode == 0
    assert run_cli("run", "--tag", "mix").returncode == 0
    deadline = time.monotonic() + 30
    status: dict[str, object] = {}
    while time.monotonic() < deadline:
        status = json.loads(run_cli("status", "--json").stdout)
        batch = status["active_batches"][0] if status["active_batches"] else None  # type: ignore[index]
        if batch and batch["counts"]["passed"] == 4:
            break
        time.sleep(0.2)
    time.sleep(2.5)  # the long run is now far past the quick ones' durations
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["running"] == 1
    running = status["running_runs"][0]  # type: ignore[index]
    assert running["test_name"] == "long-one" and running["started_at"]
    assert status["eta_s"] is not None and status["eta_s"] >= 1.0  # type: ignore[operator]
    assert status["batch_eta_s"] == {"1": status["eta_s"]}

    shown = run_cli("status").stdout
    assert "elapsed" in shown
    elapsed = re.search(r"long-one\s*│\s*(\d+)s\s*│", shown)
    assert elapsed is not None and int(elapsed[1]) >= 2, shown  # 2.5 s and more since it started
    assert re.search(r"eta [1-9]\d*s", shown) and "eta 0s" not in shown, shown
    runs = run_cli("runs", "--status", "running").stdout
    so_far = re.search(r"long-one.*?│\s*(\d+)s so far\s*│", runs)
    assert so_far is not None and int(so_far[1]) >= 2, runs
    run_cli("cancel", "--all")
