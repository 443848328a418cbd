"""Suite files: TOML and CSV reading, errors naming file/line/test/field, TOML export round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from callboard.core.models import CommandTest, HttpTest, TestOutline
from callboard.core.suites import SuiteError, SuiteLimits, dump_toml_suite, load_suite_outlines, load_suites
from tests.conftest import EXAMPLES

GOOD = """
[[test]]
name = "a"
kind = "http"
request = { url = "http://localhost:8700/health" }
checks = [{ status = 200 }]

[[test]]
name = "b"
kind = "command"
command = "true"
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(paths: list[Path], limits: SuiteLimits | None = None) -> list[str]:
    with pytest.raises(SuiteError) as info:
        load_suites(paths, limits)
    return [str(problem) for problem in info.value.problems]


def test_examples_load() -> None:
    files = sorted(EXAMPLES.glob("*.toml")) + sorted(EXAMPLES.glob("*.csv"))
    tests = load_suites(files)
    assert {test.kind for test in tests} == {"http", "conversation", "call", "command", "voice"}


def test_outlines_are_the_loaded_tests_kept_compact(tmp_path: Path) -> None:
    files = sorted(EXAMPLES.glob("*.toml")) + sorted(EXAMPLES.glob("*.csv"))
    assert load_suite_outlines(files) == [TestOutline.of(test) for test in load_suites(files)]
    # A command test's folder is made absolute in the outline too, relative to its suite file.
    command = _write(tmp_path, "cmd.toml", '[[test]]\nname = "b"\nkind = "command"\ncommand = "true"\n')
    [outline] = load_suite_outlines([command])
    assert isinstance(outline.definition, CommandTest) and outline.definition.cwd == str(tmp_path.resolve())


def test_outlines_are_refused_as_the_tests_are(tmp_path: Path) -> None:
    first = _write(tmp_path, "one.csv", CSV_HEADER + "a,http,http://x,,,,,,\n")
    second = _write(tmp_path, "two.csv", CSV_HEADER + "a,http,http://y,,,,,,\n")
    with pytest.raises(SuiteError) as info:
        load_suite_outlines([first, second])
    assert [str(p) for p in info.value.problems] == _problems([first, second])


def test_malformed_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.toml", "[[test]]\nname = \n")
    [problem] = _problems([path])
    assert problem.startswith(f"{path}: not valid TOML")


def test_error_names_file_line_test_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "s.toml", GOOD + '\n[[test]]\nname = "c"\nkind = "http"\nrequest = { method = "GET" }\n'
    )
    [problem] = _problems([path])
    assert problem == f"{path}:13: test 'c': field 'request.url': Field required"


def test_unknown_kind_wrong_type_and_missing_field(tmp_path: Path) -> None:
    text = """
[[test]]
name = "k"
kind = "fax"

[[test]]
name = "w"
kind = "http"
request = { url = "http://x" }
repeat = "many"

[[test]]
kind = "command"
command = "true"
"""
    problems = _problems([_write(tmp_path, "s.toml", text)])
    assert any("test 'k'" in p and "kind" in p for p in problems)
    assert any("test 'w': field 'repeat'" in p for p in problems)
    assert any("test '#3': field 'name': Field required" in p for p in problems)


def test_inf_and_nan_are_refused_where_they_are_written(tmp_path: Path) -> None:
    # A test is stored as JSON, which has neither: stored as null, the test would no longer be valid,
    # and a daemon restarted on that store could not read its catalogue back.
    text = """
[[test]]
name = "expects-inf"
kind = "http"
request = { url = "http://x/chat", json = { temperature = nan } }
checks = [{ jsonpath = "$.reply", equals = inf }, { latency_ms_below = inf }, { status = 200, weight = nan }]

[[test]]
name = "schema"
kind = "http"
request = { url = "http://x/chat" }
checks = [{ json_schema = { type = "number", maximum = -inf } }]
"""
    problems = _problems([_write(tmp_path, "s.toml", text)])
    fields = [
        "request.json",
        "checks[0].jsonpath.equals",
        "checks[1].latency_ms_below.latency_ms_below",
        "checks[2].status.weight",
    ]
    for field in fields:
        assert any(f"test 'expects-inf': field '{field}'" in p for p in problems), field
    assert any("test 'schema': field 'checks[0].json_schema.json_schema.maximum'" in p for p in problems)
    assert len(problems) == 5
    assert all("inf and nan cannot be stored" in p or "finite number" in p for p in problems)


def test_duplicate_names_in_one_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.toml", GOOD + GOOD.replace('"b"', '"b2"'))
    problems = _problems([path])
    assert problems == [f"{path}: test 'a': field 'name': duplicate name (first in {path})"]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    [problem] = _problems([_write(tmp_path, "s.toml", "tests = []\n")])
    assert "unknown top-level key(s) tests" in problem


def test_unknown_format(tmp_path: Path) -> None:
    [problem] = _problems([_write(tmp_path, "s.yaml", "a: 1\n")])
    assert "unknown suite format" in problem


def test_toml_export_round_trips(tmp_path: Path) -> None:
    tests = load_suites(sorted(EXAMPLES.glob("*.toml")))
    exported = _write(tmp_path, "out.toml", dump_toml_suite(tests))
    assert load_suites([exported]) == tests


def test_export_refuses_null_it_cannot_write() -> None:
    test = HttpTest.model_validate({"name": "n", "request": {"url": "http://x", "json": {"a": None}}})
    with pytest.raises(ValueError, match=r"test 'n'.*null"):
        dump_toml_suite([test])


CSV_HEADER = "name,kind,url,phone,method,body,expected_status,expected_text,tags\n"


def test_csv_maps_columns_to_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "s.csv",
        "Name,Kind,URL,Phone,Method,Body,Expected Status,Expected Text,Tags\n"
        'hello,http,http://h/chat,,POST,"{""message"": ""hi""}",200,help,"smoke, chat"\n'
        "ring,,,+15555550100,,,,closed,calls\n"
        "raw,http,http://h/echo,,PUT,plain text,201,,\n",
    )
    hello, ring, raw = load_suites([path])
    assert hello.request.json_body == {"message": "hi"} and hello.request.method == "POST"
    assert [c.model_dump(exclude_defaults=True) for c in hello.checks] == [
        {"status": 200},
        {"contains": "help"},
    ]
    assert hello.tags == ["smoke", "chat"]
    assert ring.kind == "call" and ring.phone == "+15555550100"
    assert raw.request.body == "plain text"


def test_csv_missing_column(tmp_path: Path) -> None:
    [problem] = _problems([_write(tmp_path, "s.csv", "kind,url\nhttp,http://x\n")])
    assert problem == f"{tmp_path / 's.csv'}:1: missing column 'name'"


def test_csv_unknown_column(tmp_path: Path) -> None:
    [problem] = _problems([_write(tmp_path, "s.csv", "name,url,colour\na,http://x,red\n")])
    assert "unknown column(s) colour" in problem


def test_csv_ragged_row_names_line_and_test(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", CSV_HEADER + "ok,http,http://x,,GET,,200,,\nshort,http,http://x\n")
    [problem] = _problems([path])
    assert problem == f"{path}:3: test 'short': ragged row: 3 cells but the header has 9 columns"


def test_csv_bad_cell_names_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", CSV_HEADER + "a,http,http://x,,GET,,two hundred,,\nb,call,,12,,,,,\n")
    problems = _problems([path])
    assert problems[0] == f"{path}:2: test 'a': field 'expected_status': 'two hundred' is not a number"
    assert problems[1].startswith(f"{path}:3: test 'b': field 'phone': '12' is not an E.164")


def test_csv_duplicate_names_across_files(tmp_path: Path) -> None:
    first = _write(tmp_path, "one.csv", CSV_HEADER + "a,http,http://x,,,,,,\n")
    second = _write(tmp_path, "two.csv", CSV_HEADER + "a,http,http://y,,,,,,\n")
    [problem] = _problems([first, second])
    assert "duplicate name (first in" in problem and str(first) in problem


def test_large_csv_is_refused_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write(CSV_HEADER)
        for index in range(50_000):
            handle.write(f"t{index},http,http://localhost/{index},,GET,,200,,\n")
    [problem] = _problems([path], SuiteLimits(max_tests=1_000))
    assert "more than 1000 tests" in problem


def test_large_toml_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.toml", GOOD * 50)
    [problem] = _problems([path], SuiteLimits(max_file_bytes=1_000))
    assert "larger than" in problem
