"""Every error as ``{"error": {"code", "message", "details"}}`` with the right status.

A client's mistake is answered, never raised through: the daemon must not die of bad input.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from callboard.core.models.api import ErrorBody, ErrorResponse
from callboard.storage.errors import StoreError

log = logging.getLogger(__name__)

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answered to the client as is."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def not_found(what: str, key: object) -> ApiError:
    """404 for a missing resource, naming it."""
    return ApiError(404, "not_found", f"no {what} with id {key}")


def error_response(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    """The JSON response for an error."""
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        detail = errors[0].get("ctx", {}).get("error", "")
        return error_response(
            400, "malformed_json", f"{request.url.path}: the body is not valid JSON {detail}"
        )
    details = [{"field": _location(tuple(e.get("loc", ()))), "message": e.get("msg", "")} for e in errors]
    first = details[0]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    message = f"{request.method} {request.url.path}: {first['field']}: {first['message']}{more}"
    return error_response(422, "invalid_request", message, details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    response = error_response(exc.status_code, code, message)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        # RFC 9110 §15.5.6: a 405 names the allowed methods — of every route on the path (Starlette
        # names only the first route's).
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    # The database is busy (another process holds it) or broken: the request changed nothing.
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "store_unavailable", f"{request.method} {request.url.path}: {exc}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log (which never holds secrets); the client gets no internals.
    log.exception("%s %s failed", request.method, request.url.path)
    return error_response(500, "internal", "internal error; see the daemon log")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the one shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StoreError, _store_error)
    # A full disk, an I/O error or a read-only database: the store's fault, not the client's.
    app.add_exception_handler(sqlite3.OperationalError, _store_error)
    app.add_exception_handler(Exception, _unexpected)
