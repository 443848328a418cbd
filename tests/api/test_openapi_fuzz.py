"""A bounded schemathesis run over the daemon's own OpenAPI document, on the real socket: no 5xx, every
response matches the document (status codes, content types, bodies), and a request the document
allows is not refused as malformed (schemathesis ST202, ``positive_data_acceptance``)."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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
# Test definitions by value have rules a JSON schema cannot state (JSONPath and regex syntax, which
# checks apply to which kind), so a schema-valid one may still be refused with 422 naming the field;
# every other operation's document says exactly what it accepts.
_NOT_FULLY_DESCRIBED = {("POST", "/v1/tests"), ("PUT", "/v1/tests/{test_id}"), ("POST", "/v1/tests/import")}
# The event stream never ends; it has its own tests.
_SKIPPED_PATHS = {"/v1/events"}


def test_openapi_document_describes_every_route(daemon: DaemonProcess) -> None:
    with daemon.http() as http:
        document = http.get("/openapi.json").json()
    paths = set(document["paths"])
    expected = {
        "/v1/health", "/v1/tests", "/v1/tests/import", "/v1/batches", "/v1/batches/{batch_id}/export",
        "/v1/runs", "/v1/runs/{run_id}/retry", "/v1/queue", "/v1/queue/pause", "/v1/events",
    }  # fmt: skip
    assert expected <= paths
    assert "ErrorResponse" in document["components"]["schemas"]


def test_fuzzed_requests_never_break_the_daemon(daemon: DaemonProcess, agent_url: str) -> None:
    with daemon.http() as http:
        http.post("/v1/tests/import", json={"tests": http_tests(agent_url, 3)})
        http.post("/v1/batches", json={"all": True})
        schema = schemathesis.openapi.from_dict(http.get("/openapi.json").json())
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in _SKIPPED_PATHS:
                continue

            checks = CHECKS
            if (operation.method.upper(), operation.path) not in _NOT_FULLY_DESCRIBED:
                checks = [*CHECKS, positive_data_acceptance]

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
                # A failed check raises a FailureGroup; hypothesis shrinks it and fails the test.
                case.validate_response(http.request(**kwargs), checks=checks)  # noqa: B023 - called at once

            check()
        assert http.get("/v1/health").status_code == 200
    assert daemon.process.poll() is None
