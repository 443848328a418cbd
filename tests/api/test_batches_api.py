"""Batches, runs, the queue and exports through the real daemon, against the demo agent."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from tests.api.conftest import DaemonProcess, http_tests, wait_batch

JUNIT_XSD = Path(__file__).parent.parent / "reports" / "junit.xsd"


def _import(daemon: DaemonProcess, tests: list[dict[str, object]]) -> None:
    with daemon.http() as http:
        response = http.post("/v1/tests/import", json={"tests": tests})
        assert response.status_code == 200, response.text


def test_batch_lifecycle_runs_and_exports(daemon: DaemonProcess, agent_url: str) -> None:
    failing = {
        "name": "wrong-hours", "kind": "http", "tags": ["api"], "request": {"url": f"{agent_url}/hours"},
        "checks": [{"jsonpath": "$.sunday", "equals": "open"}],
    }  # fmt: skip
    call = {"name": "no-number", "kind": "call", "tags": ["api"], "caller": [{"say": "hi"}]}
    _import(daemon, [*http_tests(agent_url, 5), failing, call])
    with daemon.http() as http:
        created = http.post("/v1/batches", json={"tags": ["api"], "repeat": 2, "label": "nightly"})
        assert created.status_code == 202, created.text
        body = created.json()
        batch_id = body["batch"]["id"]
        assert body["batch"]["counts"]["total"] == 14
        assert body["skipped"] == [{"test": "no-number", "reason": "no phone number"}]
        batch = wait_batch(http, batch_id)
        assert batch["status"] == "finished"
        assert batch["counts"] == {"total": 14, "queued": 0, "running": 0, "passed": 10, "failed": 2,
                                   "error": 0, "cancelled": 0, "skipped": 2}  # fmt: skip

        runs = http.get("/v1/runs", params={"batch_id": batch_id, "limit": 5}).json()
        ids = [run["id"] for run in runs["runs"]]
        assert ids == sorted(ids, reverse=True) and len(ids) == 5
        older = http.get("/v1/runs", params={"batch_id": batch_id, "before": runs["next_before"]}).json()
        assert all(run["id"] < ids[-1] for run in older["runs"]) and len(older["runs"]) == 9
        failed = http.get("/v1/runs", params={"status": ["failed", "skipped"], "batch_id": batch_id}).json()
        assert sorted(run["status"] for run in failed["runs"]) == ["failed", "failed", "skipped", "skipped"]

        failed_id = next(run["id"] for run in failed["runs"] if run["status"] == "failed")
        detail = http.get(f"/v1/runs/{failed_id}").json()
        assert detail["checks"][0]["passed"] is False and detail["snapshot"]["name"] == "wrong-hours"
        assert http.post(f"/v1/runs/{failed_id}/cancel").status_code == 409

        exported = http.get(f"/v1/batches/{batch_id}/export", params={"format": "csv"})
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(rows) == 14 and {row["status"] for row in rows} == {"passed", "failed", "skipped"}
        document = http.get(f"/v1/batches/{batch_id}/export", params={"format": "json"}).json()
        assert len(document["runs"]) == 14 and "snapshot" not in document["runs"][0]
        junit = http.get(f"/v1/batches/{batch_id}/export", params={"format": "junit"}).content
        xmlschema.XMLSchema(JUNIT_XSD).validate(ET.fromstring(junit))
        root = ET.fromstring(junit)
        assert root.get("tests") == "14" and root.get("failures") == "2"

        report = http.get(f"/v1/batches/{batch_id}/report").json()
        assert report["counts"]["failed"] == 2 and report["total_failures"] == 2
        assert report["failures"][0]["check_name"].startswith("jsonpath='$.sunday'")

        retried = http.post(f"/v1/batches/{batch_id}/retry", json={"failed_only": True})
        assert retried.status_code == 202
        assert retried.json()["batch"]["counts"]["total"] == 1
        assert retried.json()["batch"]["label"] == f"retry of batch {batch_id} (failed)"
        again = http.post(f"/v1/runs/{failed_id}/retry")
        assert again.status_code == 202
        for new in (retried.json()["batch"]["id"], again.json()["batch"]["id"]):
            assert wait_batch(http, new)["counts"]["failed"] == 1
        listed = http.get("/v1/batches", params={"limit": 2}).json()
        assert [b["id"] for b in listed["batches"]] == [batch_id + 2, batch_id + 1]
        assert listed["next_before"] == batch_id + 1


def test_pause_resume_and_cancel(daemon: DaemonProcess, agent_url: str) -> None:
    _import(daemon, http_tests(agent_url, 20))
    with daemon.http() as http:
        paused = http.post("/v1/queue/pause").json()
        assert paused["paused"] is True
        first = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        second = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        queue = http.get("/v1/queue").json()
        assert queue["queued"] == 40 and queue["running"] == 0
        assert {b["id"] for b in queue["active_batches"]} == {first, second}
        run_id = http.get("/v1/runs", params={"batch_id": second, "limit": 1}).json()["runs"][0]["id"]
        assert http.post(f"/v1/runs/{run_id}/cancel").json() == {"cancelled": 1}
        assert http.post(f"/v1/batches/{first}/cancel").json() == {"cancelled": 20}
        assert wait_batch(http, first)["status"] == "cancelled"
        assert http.post("/v1/queue/resume").json()["paused"] is False
        done = wait_batch(http, second)
        assert done["counts"]["passed"] == 19 and done["counts"]["cancelled"] == 1
        assert http.get(f"/v1/runs/{run_id}").json()["status"] == "cancelled"


def test_test_detail_shows_recent_runs(daemon: DaemonProcess, agent_url: str) -> None:
    _import(daemon, http_tests(agent_url, 1))
    with daemon.http() as http:
        batch = http.post("/v1/batches", json={"names": ["api-00000"], "repeat": 3}).json()["batch"]["id"]
        wait_batch(http, batch)
        summary = http.get("/v1/tests").json()["tests"][0]
        assert summary["last_status"] == "passed" and summary["last_score"] == 100
        detail = http.get(f"/v1/tests/{summary['id']}").json()
        assert [run["status"] for run in detail["recent_runs"]] == ["passed"] * 3
        assert json.loads(json.dumps(detail["definition"]))["request"]["url"].endswith("/health")
