"""Issue 13 §1 and issue 12 §4, through a real daemon: a command test never sees callboard's secrets or
settings, secret values it finds anyway are redacted from everything stored, and it runs in the
directory of the suite file it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api.conftest import start_daemon_process, wait_batch

AUTH_TOKEN = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
API_SECRET = "sec-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def test_a_command_gets_a_clean_environment_and_secrets_are_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_dir = tmp_path / "suites" / "e2e"
    suite_dir.mkdir(parents=True)
    # A secret the command finds on its own (a file), printed to stdout, stderr and a check's actual.
    (suite_dir / "leak.txt").write_text(API_SECRET)
    suite = suite_dir / "suite.toml"
    suite.write_text(
        """
[[test]]
name = "prints-env"
kind = "command"
command = "env; echo CWD=$(pwd); cat leak.txt; cat leak.txt >&2"
pass_env = ["ASKED_FOR"]
env = { OWN = "mine" }
checks = [{ contains = "never-there" }]
"""
    )
    for name, value in {"ASKED_FOR": "asked", "GLOBAL_PASS": "global", "NOT_ASKED": "hidden"}.items():
        monkeypatch.setenv(name, value)
    daemon = start_daemon_process(
        tmp_path / "state",
        TWILIO__AUTH_TOKEN=AUTH_TOKEN,
        TWILIO__API_SECRET=API_SECRET,
        COMMANDS__PASS_ENV='["GLOBAL_PASS"]',
    )
    try:
        with daemon.http() as http:
            imported = http.post("/v1/tests/import", json={"paths": [str(suite)]})
            assert imported.status_code == 200, imported.text
            batch_id = http.post("/v1/batches", json={"names": ["prints-env"]}).json()["batch"]["id"]
            wait_batch(http, batch_id)
            run_id = http.get("/v1/runs", params={"batch_id": batch_id}).json()["runs"][0]["id"]
            detail = http.get(f"/v1/runs/{run_id}").json()
            exported = http.get(f"/v1/batches/{batch_id}/export", params={"format": "json"}).text
            junit = http.get(f"/v1/batches/{batch_id}/export", params={"format": "junit"}).text
    finally:
        daemon.stop()
    stdout = detail["artifacts"]["stdout_tail"]
    variables = dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    assert not [name for name in variables if name.startswith("CALLBOARD_")]
    assert "NOT_ASKED" not in variables
    assert variables["ASKED_FOR"] == "asked" and variables["GLOBAL_PASS"] == "global"
    assert variables["OWN"] == "mine" and "PATH" in variables
    assert variables["CWD"] == str(suite_dir.resolve())
    assert "[redacted]" in stdout and "[redacted]" in detail["artifacts"]["stderr_tail"]
    everything = json.dumps(detail) + exported + junit + daemon.log()
    for secret in (AUTH_TOKEN, API_SECRET):
        assert secret not in everything
        for path in (tmp_path / "state").rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
