"""``/v1/tests``: list, read, create, replace, delete and import test definitions."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic_core import to_json

from callboard.core.api.deps import Daemon, PathId
from callboard.core.api.errors import ApiError, not_found
from callboard.core.models import KINDS, LastResult, Run, StoredTest, TestDefinition, dump_test
from callboard.core.models.api import (
    ErrorResponse,
    ImportResult,
    RunSummary,
    TestDefinitions,
    TestDetail,
    TestList,
)
from callboard.core.models.imports import ImportRequest, read_import_body
from callboard.core.services.catalogue import CatalogueConflict
from callboard.core.suites import SuiteError

router = APIRouter(prefix="/v1/tests", tags=["tests"])
_RECENT_RUNS = 20
# Tests made into summaries and encoded at a time when listing (see list_tests).
_LISTED_AT_ONCE = 1000
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 409, 413, 422)
}


def summary(test: StoredTest, last: LastResult | None) -> dict[str, Any]:
    """A stored test as listed, with its last result: ``TestSummary``'s fields, in its order, as plain
    data (a model each was most of the listing's time, for 10,000 tests)."""
    definition = test.outline  # its facts, without parsing the definition
    return {
        "id": test.id,
        "name": test.name,
        "kind": definition.kind,
        "target": definition.target(),
        "tags": definition.tags,
        "version": test.version,
        "skip_reason": definition.skip_reason(),
        "last_status": last.status if last else None,
        "last_score": last.score if last else None,
        "last_run_at": last.finished_at if last else None,
    }


def _detail(test: StoredTest, runs: list[Run]) -> TestDetail:
    return TestDetail(
        id=test.id,
        version=test.version,
        created_at=test.created_at,
        updated_at=test.updated_at,
        definition=dump_test(test.definition),
        recent_runs=[RunSummary.of(run) for run in runs],
    )


async def _stored(daemon: Daemon, test_id: int) -> StoredTest:
    test = await daemon.store.tests.get(test_id)
    if test is None:
        raise not_found("test", test_id)
    return test


@router.get("", response_model=TestList, responses=_ERRORS)
async def list_tests(
    daemon: Daemon,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(KINDS) + ")$")] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Tests in name order with their last result, optionally by tag, kind or part of the name."""
    tests = await daemon.store.tests.list(tag=tag, kind=kind, search=search)
    last = await daemon.store.runs.last_results()
    # Encoded by pydantic_core (FastAPI would turn models into dicts, then encode those), a thousand
    # at a time and joined into TestList's very JSON: 10,000 summaries made and encoded at once were the
    # daemon's peak of memory.
    encoded = [
        to_json([summary(test, last.get(test.id)) for test in tests[start : start + _LISTED_AT_ONCE]])
        for start in range(0, len(tests), _LISTED_AT_ONCE)
    ]
    return Response(_test_list_json(encoded), media_type="application/json")


def _test_list_json(chunks: list[bytes]) -> bytes:
    """TestList's JSON from its summaries encoded as JSON arrays ("[…]" each), copied once."""
    pieces: list[bytes | memoryview] = [b'{"tests":[']
    for number, chunk in enumerate(chunks):
        if number:
            pieces.append(b",")
        pieces.append(memoryview(chunk)[1:-1])
    pieces.append(b"]}")
    return b"".join(pieces)


@router.get("/definitions", response_model=TestDefinitions, responses=_ERRORS)
async def test_definitions(
    daemon: Daemon, tag: Annotated[str | None, Query(max_length=200)] = None
) -> TestDefinitions:
    """Every test (or those with ``tag``) in suite form, in name order: what ``export-tests`` writes."""
    return TestDefinitions(
        tests=[dump_test(test.definition) for test in await daemon.store.tests.list(tag=tag)]
    )


@router.get("/{test_id}", response_model=TestDetail, responses=_ERRORS)
async def get_test(daemon: Daemon, test_id: PathId) -> TestDetail:
    """The test's definition in suite form and its most recent runs."""
    test = await _stored(daemon, test_id)
    runs = await daemon.store.runs.page(test_id=test_id, limit=_RECENT_RUNS)
    return _detail(test, runs)


@router.post("", status_code=201, response_model=TestDetail, responses=_ERRORS)
async def create_test(daemon: Daemon, definition: Annotated[TestDefinition, Body()]) -> TestDetail:
    """Add one test (suite form); 409 when the name is taken."""
    try:
        created = await daemon.catalogue.create(definition)
    except CatalogueConflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return _detail(created, [])


@router.put("/{test_id}", response_model=TestDetail, responses=_ERRORS)
async def replace_test(
    daemon: Daemon, test_id: PathId, definition: Annotated[TestDefinition, Body()]
) -> TestDetail:
    """Replace the test's definition (its version goes up when it changed); past runs keep theirs."""
    try:
        replaced = await daemon.catalogue.replace(test_id, definition)
    except CatalogueConflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    if replaced is None:
        raise not_found("test", test_id)
    runs = await daemon.store.runs.page(test_id=test_id, limit=_RECENT_RUNS)
    return _detail(replaced, runs)


@router.delete("/{test_id}", status_code=204, responses=_ERRORS)
async def delete_test(daemon: Daemon, test_id: PathId) -> Response:
    """Delete the test; its past runs stay."""
    if not await daemon.catalogue.delete(test_id):
        raise not_found("test", test_id)
    return Response(status_code=204)


class _ImportBody(Request):
    """A request whose JSON body is read into an ``ImportRequest`` one test at a time.

    FastAPI would parse the whole body into Python objects first (about 31 MB for 10,000 tests, five
    times the text), then validate those: that was the peak of the daemon's memory. A body that is not
    a valid import is parsed as FastAPI parses it, so FastAPI reports it with its own errors (the same
    messages and locations), or raises as it expects when it is not JSON at all.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            read = read_import_body(body)
            self._json = read if read is not None else json.loads(body)
        return self._json


class _ImportRoute(APIRoute):
    """The import route, reading its body as ``_ImportBody``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def validated_from_bytes(request: Request) -> Response:
            return await handler(_ImportBody(request.scope, request.receive))

        return validated_from_bytes


async def import_tests(daemon: Daemon, body: ImportRequest) -> ImportResult:
    """Import suite files (by path) and tests (by value), all or nothing; re-imports update by name."""
    if not body.paths and not body.tests:
        raise ApiError(422, "invalid_request", "POST /v1/tests/import: give paths or tests")
    paths = [Path(path) for path in body.paths]
    if any(not path.is_absolute() for path in paths):
        raise ApiError(422, "invalid_request", "POST /v1/tests/import: paths must be absolute")
    if missing := [str(path) for path in paths if not path.exists()]:
        raise ApiError(404, "not_found", f"POST /v1/tests/import: no such file: {', '.join(missing)}")
    try:
        counts = await daemon.catalogue.import_suites(paths, body.tests)
    except SuiteError as exc:
        details = [
            {"file": p.file, "line": p.line, "test": p.test, "field": p.field, "message": p.message}
            for p in exc.problems
        ]
        raise ApiError(422, "invalid_suite", f"import failed, nothing stored:\n{exc}", details) from None
    except ValueError as exc:
        raise ApiError(422, "invalid_suite", f"import failed, nothing stored: {exc}") from None
    return ImportResult(added=counts.added, updated=counts.updated, unchanged=counts.unchanged)


router.add_api_route(
    "/import",
    import_tests,
    methods=["POST"],
    response_model=ImportResult,
    responses=_ERRORS,
    route_class_override=_ImportRoute,
)
