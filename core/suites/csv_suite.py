"""Read a CSV suite: a header row naming fields, one test per row, streamed row by row.

Columns (case-insensitive; spaces and dashes count as underscores):
``name`` (required), ``kind`` (http, call or command; guessed from url / phone / command when empty),
``url``, ``phone``, ``command``, ``method``, ``body`` (JSON when it parses as an object or array, else
sent as text), ``headers`` (a JSON object), ``expected_status``, ``expected_text``, ``tags`` (separated
by commas, semicolons, pipes or spaces), ``description``, ``timeout_s``, ``priority``, ``repeat``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from callboard.core.models import TestDefinition, parse_test
from callboard.core.suites.encoding import not_utf8_message
from callboard.core.suites.errors import SuiteProblem, problems_from_validation

KNOWN_COLUMNS = (
    "name", "kind", "url", "phone", "command", "method", "body", "headers", "expected_status",
    "expected_text", "tags", "description", "timeout_s", "priority", "repeat",
)  # fmt: skip
TARGET_COLUMNS = ("url", "phone", "command")
# Where a model field came from, so errors name the column the user wrote.
_FIELD_COLUMNS = {
    "request": "url",
    "phone": "phone",
    "command": "command",
    "checks": "expected_status/expected_text",
    "tags": "tags",
    "timeout_s": "timeout_s",
    "priority": "priority",
    "repeat": "repeat",
    "name": "name",
    "kind": "kind",
    "description": "description",
}


class RowError(ValueError):
    """A cell that cannot be turned into a field; carries the column."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _normalise(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def read_csv_suite(path: Path) -> Iterator[tuple[TestDefinition | None, list[SuiteProblem]]]:
    """Yield each row's test with the problems found in it; header problems stop the read."""
    try:
        yield from _read_rows(path)
    except UnicodeDecodeError:
        yield None, [SuiteProblem(file=str(path), message=not_utf8_message(path))]
    except OSError as exc:
        yield None, [SuiteProblem(file=str(path), message=f"cannot read: {exc.strerror}")]


def _read_rows(path: Path) -> Iterator[tuple[TestDefinition | None, list[SuiteProblem]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            yield None, [SuiteProblem(file=str(path), line=1, message=f"not valid CSV: {exc}")]
            return
        if header is None:
            yield None, [SuiteProblem(file=str(path), message="the file is empty; expected a header row")]
            return
        columns = [_normalise(cell) for cell in header]
        problem = _check_header(columns)
        if problem:
            yield None, [SuiteProblem(file=str(path), line=1, message=problem)]
            return
        try:
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                yield _parse_row(path, line, columns, row)
        except csv.Error as exc:
            yield None, [SuiteProblem(file=str(path), line=reader.line_num, message=f"not valid CSV: {exc}")]


def _check_header(columns: list[str]) -> str | None:
    unknown = [column for column in columns if column not in KNOWN_COLUMNS]
    if unknown:
        return f"unknown column(s) {', '.join(unknown)}; known columns: {', '.join(KNOWN_COLUMNS)}"
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if duplicated:
        return f"column(s) given twice: {', '.join(duplicated)}"
    if "name" not in columns:
        return "missing column 'name'"
    if not any(column in columns for column in TARGET_COLUMNS):
        return "missing a target column: one of url, phone, command"
    return None


def _parse_row(
    path: Path, line: int, columns: list[str], row: list[str]
) -> tuple[TestDefinition | None, list[SuiteProblem]]:
    name = row[columns.index("name")].strip() if len(row) > columns.index("name") else ""
    test = name or None
    if len(row) != len(columns):
        message = f"ragged row: {len(row)} cells but the header has {len(columns)} columns"
        return None, [SuiteProblem(file=str(path), line=line, test=test, message=message)]
    cells = {column: cell.strip() for column, cell in zip(columns, row, strict=True)}
    try:
        entry = _row_to_entry(cells)
    except RowError as exc:
        return None, [SuiteProblem(file=str(path), line=line, test=test, field=exc.column, message=str(exc))]
    try:
        return parse_test(entry), []
    except ValidationError as exc:
        problems = problems_from_validation(
            exc, file=str(path), line=line, test=test, kind=entry.get("kind"), field_names=_FIELD_COLUMNS
        )
        return None, problems


def _row_to_entry(cells: dict[str, str]) -> dict[str, Any]:
    kind = cells.get("kind", "").lower() or _guess_kind(cells)
    entry: dict[str, Any] = {"name": cells.get("name", ""), "kind": kind}
    for column in ("description",):
        if cells.get(column):
            entry[column] = cells[column]
    for column in ("timeout_s", "priority", "repeat"):
        if cells.get(column):
            entry[column] = _number(column, cells[column])
    if cells.get("tags"):
        entry["tags"] = [tag for tag in re.split(r"[,;|\s]+", cells["tags"]) if tag]
    if kind == "http":
        entry["request"] = _request(cells)
        entry["checks"] = _http_checks(cells)
    elif kind == "call":
        entry["phone"] = cells.get("phone") or None
        if cells.get("expected_text"):
            entry["checks"] = [{"agent_says": cells["expected_text"]}]
    elif kind == "command":
        entry["command"] = cells.get("command", "")
        entry["checks"] = _command_checks(cells)
    elif kind == "conversation":
        raise RowError("kind", "conversation tests need turns; write them in a TOML suite")
    else:
        raise RowError("kind", f"unknown kind {kind!r}; use one of http, call, command")
    return entry


def _guess_kind(cells: dict[str, str]) -> str:
    if cells.get("url"):
        return "http"
    if cells.get("phone"):
        return "call"
    if cells.get("command"):
        return "command"
    raise RowError("url", "no url, phone or command: nothing to test")


def _number(column: str, text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise RowError(column, f"{text!r} is not a number") from None


def _request(cells: dict[str, str]) -> dict[str, Any]:
    if not cells.get("url"):
        raise RowError("url", "an http test needs a url")
    request: dict[str, Any] = {"url": cells["url"], "method": cells.get("method") or "GET"}
    if cells.get("headers"):
        headers = _json_cell("headers", cells["headers"])
        if not isinstance(headers, dict):
            raise RowError("headers", "headers must be a JSON object")
        request["headers"] = {str(key): str(value) for key, value in headers.items()}
    body = cells.get("body")
    if body:
        parsed = _maybe_json(body)
        if isinstance(parsed, dict | list):
            request["json"] = parsed
        else:
            request["body"] = body
    return request


def _http_checks(cells: dict[str, str]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    if cells.get("expected_status"):
        status = _number("expected_status", cells["expected_status"])
        if not isinstance(status, int):
            raise RowError("expected_status", f"{cells['expected_status']!r} is not a status code")
        checks.append({"status": status})
    if cells.get("expected_text"):
        checks.append({"contains": cells["expected_text"]})
    return checks


def _command_checks(cells: dict[str, str]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = [{"exit_code": 0}]
    if cells.get("expected_text"):
        checks.append({"contains": cells["expected_text"]})
    return checks


def _json_cell(column: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError(column, f"not valid JSON: {exc.msg}") from None


def _maybe_json(text: str) -> Any:
    if text[:1] not in "{[":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
