"""Every client mistake is a clean 4xx in the one error shape, changes nothing, and the daemon stays up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import DaemonProcess


@pytest.fixture
def http(daemon: DaemonProcess) -> Iterator[httpx.Client]:
    with daemon.http() as client:
        yield client
    assert daemon.process.poll() is None, "the daemon died"
    with daemon.http() as client:
        assert client.get("/v1/health").status_code == 200


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert message
    return message


def test_malformed_json(http: httpx.Client) -> None:
    response = http.post("/v1/batches", content=b'{"all": tru', headers={"content-type": "application/json"})
    _error(response, 400, "malformed_json")


def test_wrong_types_name_the_field(http: httpx.Client) -> None:
    message = _error(http.post("/v1/batches", json={"ids": ["seven"]}), 422, "invalid_request")
    assert "body.ids.0" in message
    _error(http.post("/v1/batches", json={"all": True, "repeat": 0}), 422, "invalid_request")
    _error(http.post("/v1/batches", json={"all": True, "colour": "red"}), 422, "invalid_request")
    _error(http.post("/v1/batches", json=[1, 2]), 422, "invalid_request")
    _error(http.get("/v1/runs", params={"limit": "lots"}), 422, "invalid_request")
    _error(http.get("/v1/runs", params={"status": "happy"}), 422, "invalid_request")


def test_oversized_bodies_are_refused(http: httpx.Client) -> None:
    big = b'{"tests": [' + b'{"name": "x"},' * 100_000 + b'{"name": "y"}]}'
    message = _error(
        http.post("/v1/tests/import", content=big, headers={"content-type": "application/json"}),
        413,
        "payload_too_large",
    )
    assert "/v1/tests/import" in message

    def chunks() -> Iterator[bytes]:
        yield b'{"tests": ['
        for _ in range(100_000):
            yield b'{"name": "x"},'
        yield b"{}]}"

    chunked = http.post("/v1/tests/import", content=chunks(), headers={"content-type": "application/json"})
    _error(chunked, 413, "payload_too_large")
    assert http.get("/v1/tests").json()["tests"] == []


def test_unknown_ids_and_routes(http: httpx.Client) -> None:
    assert "no test with id 999" in _error(http.get("/v1/tests/999"), 404, "not_found")
    _error(http.put("/v1/tests/999", json={"name": "a", "kind": "http", "request": {"url": "http://x"}}),
           404, "not_found")  # fmt: skip
    _error(http.delete("/v1/tests/999"), 404, "not_found")
    _error(http.get("/v1/runs/999"), 404, "not_found")
    _error(http.post("/v1/runs/999/cancel"), 404, "not_found")
    _error(http.post("/v1/runs/999/retry"), 404, "not_found")
    _error(http.get("/v1/batches/999"), 404, "not_found")
    _error(http.post("/v1/batches/999/cancel"), 404, "not_found")
    _error(http.get("/v1/batches/999/export"), 404, "not_found")
    _error(http.get("/v1/nowhere"), 404, "not_found")
    _error(http.delete("/v1/health"), 405, "method_not_allowed")
    _error(http.get("/v1/tests/not-a-number"), 422, "invalid_request")


def test_bad_selection(http: httpx.Client) -> None:
    _error(http.post("/v1/batches", json={}), 422, "invalid_selection")
    message = _error(http.post("/v1/batches", json={"names": ["ghost"]}), 404, "not_found")
    assert "ghost" in message
    assert http.get("/v1/batches").json()["batches"] == []


def test_test_crud(http: httpx.Client) -> None:
    definition = {"name": "ping", "kind": "http", "request": {"url": "http://127.0.0.1:9/x"}, "checks": []}
    created = http.post("/v1/tests", json=definition)
    assert created.status_code == 201
    test_id = created.json()["id"]
    _error(http.post("/v1/tests", json=definition), 409, "conflict")
    invalid = http.post("/v1/tests", json={**definition, "name": "other", "checks": [{"staus": 200}]})
    assert "body.http.checks.0" in _error(invalid, 422, "invalid_request")
    renamed = http.put(f"/v1/tests/{test_id}", json={**definition, "name": "pong", "tags": ["t"]})
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    assert renamed.json()["definition"]["name"] == "pong"
    http.post("/v1/tests", json={**definition, "name": "third"})
    _error(http.put(f"/v1/tests/{test_id}", json={**definition, "name": "third"}), 409, "conflict")
    listed = http.get("/v1/tests", params={"tag": "t"}).json()["tests"]
    assert [t["name"] for t in listed] == ["pong"]
    assert http.delete(f"/v1/tests/{test_id}").status_code == 204
    assert [t["name"] for t in http.get("/v1/tests").json()["tests"]] == ["third"]


def test_import_errors_name_the_place_and_store_nothing(http: httpx.Client, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[test]]\nname = "a"\nkind = "http"\nrequest = { url = "http://127.0.0.1:9/" }\n')
    bad = tmp_path / "bad.toml"
    bad.write_text('[[test]]\nname = "b"\nkind = "http"\nrequest = { url = "http://127.0.0.1:9/" }\n'
                   'checks = [{ status = "two hundred" }]\n')  # fmt: skip
    response = http.post("/v1/tests/import", json={"paths": [str(good), str(bad)]})
    message = _error(response, 422, "invalid_suite")
    assert f"{bad}:1" in message and "test 'b'" in message and "checks[0].status" in message
    details = response.json()["error"]["details"]
    assert details[0]["file"] == str(bad) and details[0]["line"] == 1
    _error(http.post("/v1/tests/import", json={"paths": ["relative.toml"]}), 422, "invalid_request")
    _error(http.post("/v1/tests/import", json={"paths": [str(tmp_path / "missing.toml")]}), 404, "not_found")
    by_value = http.post("/v1/tests/import", json={"tests": [{"name": "v", "kind": "http"}]})
    assert "body.tests.0" in _error(by_value, 422, "invalid_request")
    assert http.get("/v1/tests").json()["tests"] == []
    assert http.post("/v1/tests/import", json={"paths": [str(good)]}).json()["added"] == ["a"]
