"""A response's body and headers are kept with a run that did not pass, where they explain it, and not
with the passing runs of a nightly batch (bytes stored per run stay small)."""

from __future__ import annotations

from tests.api.conftest import DaemonProcess, wait_batch


def test_responses_are_stored_with_failures_only(daemon: DaemonProcess, agent_url: str) -> None:
    tests = [
        {"name": "open-hours", "kind": "http", "request": {"url": f"{agent_url}/hours"}},
        {
            "name": "wrong-hours",
            "kind": "http",
            "request": {"url": f"{agent_url}/hours"},
            "checks": [{"jsonpath": "$.sunday", "equals": "open"}],
        },
    ]
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"tests": tests}).status_code == 200
        batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        wait_batch(http, batch_id)
        listed = http.get("/v1/runs", params={"batch_id": batch_id}).json()["runs"]
        runs = {run["test_name"]: http.get(f"/v1/runs/{run['id']}").json() for run in listed}
    passed, failed = runs["open-hours"], runs["wrong-hours"]
    assert passed["status"] == "passed" and failed["status"] == "failed"
    assert "response_excerpt" not in passed["artifacts"] and "response_headers" not in passed["artifacts"]
    assert "sunday" in failed["artifacts"]["response_excerpt"]
    assert "content-type" in failed["artifacts"]["response_headers"].lower()
