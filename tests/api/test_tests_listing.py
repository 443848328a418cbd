"""``GET /v1/tests`` through the real daemon: encoded a thousand summaries at a time, it is still one
``TestList`` in pydantic's own encoding, byte for byte, with every test's last result."""

from __future__ import annotations

from callboard.core.models.api import TestList
from tests.api.conftest import DaemonProcess, http_tests, wait_batch

COUNT = 2345  # three chunks, the last one partial


def test_a_long_list_is_one_test_list_in_pydantics_encoding(daemon: DaemonProcess, agent_url: str) -> None:
    tests = http_tests(agent_url, COUNT, tag="many")
    for index in range(0, COUNT, 500):
        tests[index]["tags"] = ["many", "every-500th"]
    ran = ["many-00000", "many-01000", "many-02344"]
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"tests": tests}).status_code == 200
        batch = http.post("/v1/batches", json={"names": ran}).json()["batch"]["id"]
        assert wait_batch(http, batch)["status"] == "finished"

        raw = http.get("/v1/tests").content
        listed = TestList.model_validate_json(raw)
        assert raw == listed.model_dump_json().encode()
        assert [test.name for test in listed.tests] == sorted(test["name"] for test in tests)
        assert {test.name for test in listed.tests if test.last_status is not None} == set(ran)
        assert all(test.last_status == "passed" for test in listed.tests if test.name in ran)

        tagged = http.get("/v1/tests", params={"tag": "every-500th"}).content
        assert [test.name for test in TestList.model_validate_json(tagged).tests] == [
            f"many-{index:05d}" for index in range(0, COUNT, 500)
        ]
        assert http.get("/v1/tests", params={"search": "no-such-test"}).content == b'{"tests":[]}'
