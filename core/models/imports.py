"""``POST /v1/tests/import``'s body, apart from the rest of the API's bodies: it holds test definitions,
which a client that only follows batches never needs to build (core/models/api.py stays light)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callboard.core.models.outlines import TestOutline
from callboard.core.models.schema_rules import SUITE_PATH_PATTERN, any_of_non_empty


class ImportRequest(BaseModel):
    """``POST /v1/tests/import``: suite files the daemon reads (same machine, same user), or tests
    given by value in suite form. All or nothing."""

    # A misspelt field in a request is an error, not silently ignored (as every request body).
    model_config = ConfigDict(extra="forbid", json_schema_extra=any_of_non_empty("paths", "tests"))

    paths: list[Annotated[str, Field(pattern=r"^/", json_schema_extra={"pattern": SUITE_PATH_PATTERN})]] = (
        Field(default_factory=list, max_length=1000, description="Absolute paths of .toml or .csv files.")
    )
    # Validated as TestDefinition, kept compact. No bound on the list: read_import_body relies on that.
    tests: list[TestOutline] = Field(default_factory=list)


_DECODER = json.JSONDecoder()  # json.loads's own decoder, with its defaults
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module skips it


class _NotPlain(Exception):
    """The body is not a valid import request as this reader takes it."""


def read_import_body(body: bytes) -> ImportRequest | None:
    """The import request in ``body`` (JSON bytes), read one test at a time; None when it is not valid.

    Parsing the whole body into Python objects first costs five times its size (31 MB for 10,000
    tests), and pydantic's own JSON validation holds even more after it. Here each test's JSON is
    parsed by ``json``'s decoder and validated on its own, as ``ImportRequest`` validates it, then
    dropped. Anything else (not JSON, not an object, a field repeated or unknown, a test that does not
    validate) gives None: parsing and validating the body as usual then reports every error.
    """
    try:
        text = body.decode(json.detect_encoding(body), "surrogatepass")  # as json.loads decodes bytes
        fields = _members(text)
        paths = ImportRequest.model_validate({"paths": fields["paths"]} if "paths" in fields else {})
    except (ValueError, ValidationError, _NotPlain):  # JSONDecodeError, UnicodeDecodeError among them
        return None
    return paths.model_copy(update={"tests": fields["tests"]}) if "tests" in fields else paths


def _members(text: str) -> dict[str, Any]:
    """The top-level object's members, its tests validated one by one."""
    index = _skip(text, _expect(text, _skip(text, 0), "{"))
    members: dict[str, Any] = {}
    if text.startswith("}", index):
        return _ended(text, index + 1, members)
    while True:
        key, index = _DECODER.raw_decode(text, index)
        if not isinstance(key, str) or key not in ("paths", "tests") or key in members:
            raise _NotPlain
        index = _skip(text, _expect(text, _skip(text, index), ":"))
        members[key], index = _tests(text, index) if key == "tests" else _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if not text.startswith(",", index):
            return _ended(text, _expect(text, index, "}"), members)
        index = _skip(text, index + 1)


def _tests(text: str, index: int) -> tuple[list[TestOutline], int]:
    """The array of tests at ``index``, each parsed and validated on its own; and where it ends."""
    index = _skip(text, _expect(text, index, "["))
    tests: list[TestOutline] = []
    if text.startswith("]", index):
        return tests, index + 1
    while True:
        test, index = _DECODER.raw_decode(text, index)
        # ImportRequest's own validator for an item: the same schema and rules as the whole body's.
        tests.append(ImportRequest.model_validate({"tests": [test]}).tests[0])
        index = _skip(text, index)
        if not text.startswith(",", index):
            return tests, _expect(text, index, "]")
        index = _skip(text, index + 1)


def _ended(text: str, index: int, members: dict[str, Any]) -> dict[str, Any]:
    """``members``, when only whitespace follows the object (as json.loads requires)."""
    if _skip(text, index) != len(text):
        raise _NotPlain
    return members


def _expect(text: str, index: int, char: str) -> int:
    """Past ``char``, which must be at ``index``."""
    if not text.startswith(char, index):
        raise _NotPlain
    return index + 1


def _skip(text: str, index: int) -> int:
    """Past the whitespace at ``index``."""
    match = _SPACE.match(text, index)
    return match.end() if match else index
