"""JUnit XML parsing: nesting, failure/error/skipped, bad files."""

from __future__ import annotations

from pathlib import Path

from callboard.core.executors.junit import read_junit

NESTED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="outer">
    <testsuite name="inner">
      <testcase classname="login.spec" name="logs in"/>
      <testcase classname="login.spec" name="rejects bad password">
        <failure message="expected 401">stack trace</failure>
      </testcase>
    </testsuite>
    <testcase classname="cart" name="adds item"><error>TypeError: boom</error></testcase>
    <testcase name="no class"><skipped/></testcase>
    <testcase name="bare"/>
  </testsuite>
</testsuites>
"""


def test_nested_suites_one_check_per_case(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_text(NESTED)
    report = read_junit(path)
    assert [(c.name, c.passed, c.actual, c.message) for c in report.checks] == [
        ("login.spec::logs in", True, "pass", ""),
        ("login.spec::rejects bad password", False, "failure", "expected 401"),
        ("cart::adds item", False, "error", "TypeError: boom"),
        ("bare", True, "pass", ""),
    ]
    assert report.skipped == 1


def test_a_single_testsuite_root(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_text('<testsuite name="s"><testcase classname="c" name="n"/></testsuite>')
    assert [c.name for c in read_junit(path).checks] == ["c::n"]


def test_problems_become_one_failed_check(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_text("<testsuites/>")
    other = tmp_path / "other.xml"
    other.write_text("<html><body/></html>")
    for path, phrase in (
        (tmp_path / "absent.xml", "was not written"),
        (empty, "no test cases"),
        (other, "<html>"),
    ):
        [check] = read_junit(path).checks
        assert check.name == "junit" and not check.passed and phrase in check.message
