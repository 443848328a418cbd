"""``read_import_body``: the import route's body read one test at a time gives what parsing the whole
body and validating it gives, or None for anything it does not take (the route then reports it as
usual); and it never holds the whole body as Python objects."""

from __future__ import annotations

import codecs
import json
import tracemalloc
from typing import Any

import pytest
from pydantic import ValidationError

from callboard.core.models.imports import ImportRequest, read_import_body

TESTS: list[dict[str, Any]] = [
    {"name": "h", "kind": "http", "tags": ["a"], "request": {"url": "https://api.example.com/x"},
     "checks": [{"status": 200}, {"jsonpath": "$.reply", "contains": "é ☎ \u2028"}]},
    {"name": "c", "kind": "conversation", "timeout_s": 12.5,
     "endpoint": {"url": "http://127.0.0.1:8700/chat"}, "turns": [{"say": "hi"}],
     "checks": [{"judge": "The agent greeted the caller"}]},
    {"name": "p", "kind": "call", "caller": [{"say": "hello"}]},
    {"name": "x", "kind": "command", "command": "true"},
]  # fmt: skip
WHOLE = json.dumps({"paths": ["/suites/a.toml"], "tests": TESTS})

# Valid import requests, spelt as JSON allows: each is read test by test.
READ = {
    "empty object": "{}",
    "only paths": ' { "paths" : [ "/a.toml", "/b.csv" ] } ',
    "empty tests": '{"tests": []}',
    "compact": json.dumps({"tests": TESTS}, separators=(",", ":")),
    "tests then paths": json.dumps({"tests": TESTS, "paths": ["/x.toml"]}),
    "indented": json.dumps({"paths": ["/suites/a.toml"], "tests": TESTS}, indent=4),
    "not ascii": json.dumps({"tests": TESTS}, ensure_ascii=False),
    "escaped key": WHOLE.replace('"tests"', '"t\\u0065sts"'),
    "whitespace everywhere": "\r\n\t"
    + json.dumps({"paths": ["/a.toml"], "tests": TESTS}, separators=(" \n,\t ", "\r: "))
    + "\n",
}
# What read_import_body leaves to the usual path: each is refused there too.
REFUSED = {
    "not json": "{tests: []}",
    "truncated": WHOLE[:-3],
    "trailing comma in object": '{"tests": [],}',
    "trailing comma in tests": json.dumps({"tests": TESTS})[:-2] + ",]}",
    "extra data": '{"tests": []} []',
    "an array": json.dumps(TESTS),
    "unknown field": '{"tests": [], "test": []}',
    "a test that does not validate": json.dumps({"tests": [*TESTS, {"name": "y", "kind": "http"}]}),
    "a test that is not an object": '{"tests": [1]}',
    "tests not an array": '{"tests": {}}',
    "a relative path": '{"paths": ["a.toml"]}',
    "a number for a key": "{1: []}",
}


def usual(body: bytes) -> ImportRequest:
    """What FastAPI does with a JSON body: parse it whole, then validate it."""
    return ImportRequest.model_validate(json.loads(body))


def same(read: ImportRequest, expected: ImportRequest) -> bool:
    return (read.paths, read.tests, read.model_fields_set) == (
        expected.paths,
        expected.tests,
        expected.model_fields_set,
    )


@pytest.mark.parametrize("text", READ.values(), ids=READ.keys())
def test_a_valid_body_is_read_test_by_test_as_the_usual_path_reads_it(text: str) -> None:
    read = read_import_body(text.encode())
    assert read is not None
    assert same(read, usual(text.encode()))
    assert [outline.text for outline in read.tests] == [
        outline.text for outline in usual(text.encode()).tests
    ]


@pytest.mark.parametrize(
    "body",
    [codecs.BOM_UTF8 + WHOLE.encode(), WHOLE.encode("utf-16"), WHOLE.encode("utf-32-le")],
    ids=["utf-8 with a byte-order mark", "utf-16", "utf-32"],
)
def test_bytes_are_decoded_as_json_loads_decodes_them(body: bytes) -> None:
    read = read_import_body(body)
    assert read is not None and same(read, usual(body))


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_anything_else_is_left_to_the_usual_path_which_refuses_it(text: str) -> None:
    assert read_import_body(text.encode()) is None
    with pytest.raises((ValueError, ValidationError)):  # json.JSONDecodeError is a ValueError
        usual(text.encode())


def test_a_repeated_field_is_left_to_the_usual_path() -> None:
    # json.loads keeps the last of a repeated key; the usual path decides what that means.
    body = b'{"tests": [{"bad": 1}], "tests": []}'
    assert read_import_body(body) is None
    assert usual(body).tests == []


def test_the_body_is_never_held_as_python_objects() -> None:
    body = json.dumps({"tests": [{**TESTS[0], "name": f"many-{n}"} for n in range(2000)]}).encode()
    tracemalloc.start()
    try:
        read = read_import_body(body)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read is not None and len(read.tests) == 2000
    # Above what it returns, only the body's text (parsed whole, it is over four times the body).
    assert peak - kept < 2 * len(body)
