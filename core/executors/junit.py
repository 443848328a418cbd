"""JUnit XML (pytest, Playwright, Jest, Maven…) into one check per test case.

Skipped cases are left out: they neither passed nor failed, so they must not move the score. They are
counted in ``JUnitReport.skipped`` instead.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from callboard.core.checks.common import truncate
from callboard.core.models import CheckResult

MAX_JUNIT_BYTES = 50 * 1024 * 1024
JUNIT_CHECK = "junit"
# File times come from a coarse kernel clock that can lag time.time() slightly.
_MTIME_SLACK_S = 1.0


@dataclass
class JUnitReport:
    """The cases of one JUnit file as checks, plus how many were skipped."""

    checks: list[CheckResult] = field(default_factory=list)
    skipped: int = 0


def read_junit(path: Path, written_after: float | None = None) -> JUnitReport:
    """Parse ``path``; a missing, stale, oversized, invalid or empty file yields one failed check saying so.

    ``written_after`` (epoch seconds) rejects a file left over from an earlier run.
    """
    try:
        stat = path.stat()
        if written_after is not None and stat.st_mtime < written_after - _MTIME_SLACK_S:
            return _problem(path, "was not written by this run (it is older than the command)")
        if stat.st_size > MAX_JUNIT_BYTES:
            return _problem(path, f"larger than {MAX_JUNIT_BYTES // (1024 * 1024)} MB")
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        return _problem(path, "was not written")
    except (OSError, ET.ParseError) as exc:
        return _problem(path, f"cannot be read as XML: {exc}")
    if root.tag not in ("testsuites", "testsuite", "testcase"):
        return _problem(path, f"is not JUnit XML (root element <{root.tag}>)")
    report = JUnitReport()
    # iter() walks any nesting of <testsuites>/<testsuite> (and includes a bare <testcase> root).
    for case in root.iter("testcase"):
        verdict = _case_check(case)
        if verdict is None:
            report.skipped += 1
        else:
            report.checks.append(verdict)
    if not report.checks and not report.skipped:
        return _problem(path, "has no test cases")
    return report


def _case_check(case: ET.Element) -> CheckResult | None:
    classname = case.get("classname", "")
    name = case.get("name", "") or "(unnamed)"
    label = f"{classname}::{name}" if classname else name
    for outcome in ("failure", "error"):
        element = case.find(outcome)
        if element is not None:
            detail = element.get("message") or (element.text or "").strip() or outcome
            return CheckResult(
                name=label, passed=False, expected="pass", actual=outcome, message=truncate(detail, 500)
            )
    if case.find("skipped") is not None:
        return None
    return CheckResult(name=label, passed=True, expected="pass", actual="pass")


def _problem(path: Path, what: str) -> JUnitReport:
    message = f"the JUnit file {str(path)!r} {what}"
    return JUnitReport(
        checks=[CheckResult(name=JUNIT_CHECK, passed=False, expected="a JUnit XML file", message=message)]
    )
