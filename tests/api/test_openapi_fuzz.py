"""A bounded schemathesis run over the daemon's own OpenAPI document, on the real socket: no 5xx, every
response matches the document (status codes, content types, bodies), and a request the document
allows is not refused as malformed (schemathesis ST202, ``positive_data_acceptance``) — on every
operation, test definitions included: their schema states which checks fit which kind, a script or a
simulated user, one action per caller step, regexes (``format: regex``), JSONPaths
(``format: jsonpath``), phone numbers and URLs. Only the two rules JSON Schema cannot state are left to
the daemon's 422 (``_inexpressible``)."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callboard.core.models.checks import JSONPATH_FORMAT
from tests.api.conftest import DaemonProcess, http_tests

EXAMPLES_PER_OPERATION = 12
# Whether the answer is right by the document.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_TEST_WRITES = {("POST", "/v1/tests"), ("PUT", "/v1/tests/{test_id}"), ("POST", "/v1/tests/import")}
# The event stream never ends; it has its own tests.
_SKIPPED_PATHS = {"/v1/events"}


def jsonpaths() -> st.SearchStrategy[str]:
    """JSONPaths for the document's ``format: jsonpath`` (an OpenAPI format is open-ended: schemathesis
    knows "regex" but not this one): a root, then field names, indexes, wildcards and descents."""
    name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
    step = st.one_of(
        name.map(lambda n: f".{n}"),
        name.map(lambda n: f"..{n}"),
        st.integers(0, 99).map(lambda i: f"[{i}]"),
        st.just("[*]"),
        st.just(".*"),
    )
    return st.lists(step, max_size=4).map(lambda steps: "$" + "".join(steps))


def _inexpressible(method: str, path: str, body: object) -> bool:
    """Whether a test write breaks one of the two rules JSON Schema cannot state, which the daemon
    refuses with 422 naming the place: the names of the tests imported together are unique (JSON
    Schema's ``uniqueItems`` compares whole items, not one field of them), and a call test's
    ``timeout_s`` is longer than its ``time_limit_s`` (a schema cannot compare two values)."""
    if (method, path) not in _TEST_WRITES or not isinstance(body, dict):
        return False
    tests = body.get("tests", []) if path == "/v1/tests/import" else [body]
    tests = [test for test in tests if isinstance(test, dict)]
    names = [str(test.get("name", "")).strip() for test in tests]
    if len(set(names)) < len(names):
        return True
    return any(
        test.get("kind") == "call"
        and isinstance(test.get("timeout_s"), int | float)
        and isinstance(test.get("time_limit_s"), int | float)
        and test["timeout_s"] <= test["time_limit_s"]
        for test in tests
    )


def test_openapi_document_describes_every_route(daemon: DaemonProcess) -> None:
    with daemon.http() as http:
        document = http.get("/openapi.json").json()
    paths = set(document["paths"])
    expected = {
        "/v1/health", "/v1/tests", "/v1/tests/import", "/v1/batches", "/v1/batches/{batch_id}/export",
        "/v1/runs", "/v1/runs/{run_id}/retry", "/v1/queue", "/v1/queue/pause", "/v1/events",
    }  # fmt: skip
    assert expected <= paths
    schemas = document["components"]["schemas"]
    assert "ErrorResponse" in schemas

    def offered(model: str) -> set[str]:
        """The check models the document offers in a test kind's ``checks``."""
        (key,) = [key for key in schemas if key.split("-")[0] == model]
        refs = schemas[key]["properties"]["checks"]["items"]["oneOf"]
        return {ref["$ref"].rsplit("/", 1)[-1].split("-")[0] for ref in refs}

    assert offered("CommandTest") == {"ExitCodeCheck", "BodyCheck"}
    assert "StatusCheck" in offered("HttpTest") and "ExitCodeCheck" not in offered("HttpTest")
    assert "JudgeCheck" in offered("VoiceTest") and "StatusCheck" not in offered("VoiceTest")


def test_fuzzed_requests_never_break_the_daemon(daemon: DaemonProcess, agent_url: str) -> None:
    schemathesis.openapi.format(JSONPATH_FORMAT, jsonpaths())
    with daemon.http() as http:
        http.post("/v1/tests/import", json={"tests": http_tests(agent_url, 3)})
        http.post("/v1/batches", json={"all": True})
        schema = schemathesis.openapi.from_dict(http.get("/openapi.json").json())
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in _SKIPPED_PATHS:
                continue

            method, path = operation.method.upper(), operation.path

            @hypothesis.given(case=operation.as_strategy())
            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                kwargs = case.as_transport_kwargs(base_url="http://callboard")
                if "data" in kwargs:
                    kwargs["content"] = kwargs.pop("data")
                kwargs.pop("cookies", None)
                checks = CHECKS
                if not _inexpressible(method, path, case.body):  # noqa: B023 - called at once
                    checks = [*CHECKS, positive_data_acceptance]
                # A failed check raises a FailureGroup; hypothesis shrinks it and fails the test.
                case.validate_response(http.request(**kwargs), checks=checks)

            check()
        assert http.get("/v1/health").status_code == 200
    assert daemon.process.poll() is None
