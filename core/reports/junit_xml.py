"""A batch as JUnit XML, for the test report views of GitLab, Jenkins and GitHub Actions.

The output keeps to the dialect of the Jenkins xUnit plugin's ``junit-10.xsd`` (the strictest schema
those tools agree on): one ``<testsuite>`` per test kind, so reporters show calls, conversations, HTTP
and command tests as separate groups, and one ``<testcase>`` per run. Runs that have not finished
(an export taken while the batch is still running) and cancelled runs are reported as skipped.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from callboard.core.models import Batch, CheckResult, Run, RunStatus
from callboard.core.wording import shorten

DEFAULT_MAX_OUTPUT_CHARS = 64_000
# Reporters show messages as one-line annotations, where a long message is only cut off anyway.
_MAX_ATTRIBUTE_CHARS = 1_000
# Everything XML 1.0 forbids: C0 controls other than tab/LF/CR, lone surrogates, U+FFFE and U+FFFF.
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def junit_xml(batch: Batch, runs: list[Run], *, max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> bytes:
    """The runs of ``batch`` as a UTF-8 JUnit XML document with an XML declaration.

    Every (classname, name) pair is unique: repeated trials get `` [trial N]`` and any remaining
    clash `` #<run id>``. Failure, error and ``<system-out>`` texts are cut to ``max_output_chars``
    characters, a marker saying so included; message attributes to 1,000. Characters XML 1.0 cannot
    carry are removed from every attribute and text.
    """
    root = ET.Element("testsuites", name="callboard")
    by_kind: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_kind[run.kind].append(run)
    totals: Counter[str] = Counter()
    for kind in sorted(by_kind):
        # Sorted by name and trial so exports of the same suite diff cleanly between batches.
        suite_runs = sorted(by_kind[kind], key=lambda run: (run.test_name, run.trial, run.id))
        suite, tally = _testsuite(batch, kind, suite_runs, max_output_chars)
        root.append(suite)
        totals.update(tally)
    # No "skipped" here: junit-10.xsd does not allow it on <testsuites>; each <testsuite> carries it.
    _set_counts(root, totals, with_skipped=False)
    for element in root.iter():
        element.text = None if element.text is None else _clean(element.text)
        element.attrib = {key: _clean(value) for key, value in element.attrib.items()}
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _testsuite(
    batch: Batch, kind: str, runs: list[Run], max_output_chars: int
) -> tuple[ET.Element, Counter[str]]:
    started = [run.started_at for run in runs if run.started_at is not None]
    suite = ET.Element("testsuite", name=f"callboard.batch-{batch.id}.{kind}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("batch.id", str(batch.id)),
        ("batch.label", batch.label),
        ("batch.source", batch.source),
        ("batch.status", batch.status.value),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    tally: Counter[str] = Counter()
    for run, name in zip(runs, _case_names(runs), strict=True):
        suite.append(_testcase(run, f"callboard.{kind}", name, max_output_chars))
        tally.update({"tests": 1, _outcome(run): 1, "time_ms": _millis(run)})
    _set_counts(suite, tally, with_skipped=True)
    suite.set("timestamp", _timestamp(min(started) if started else batch.created_at))
    return suite, tally


def _set_counts(element: ET.Element, tally: Counter[str], *, with_skipped: bool) -> None:
    element.set("tests", str(tally["tests"]))
    element.set("failures", str(tally["failures"]))
    element.set("errors", str(tally["errors"]))
    if with_skipped:
        element.set("skipped", str(tally["skipped"]))
    element.set("time", _seconds(tally["time_ms"]))


def _outcome(run: Run) -> str:
    """Which JUnit count the run falls under."""
    if run.status is RunStatus.PASSED:
        return "passed"
    if run.status is RunStatus.FAILED:
        return "failures"
    if run.status is RunStatus.ERROR:
        return "errors"
    return "skipped"


def _case_names(runs: list[Run]) -> list[str]:
    """Test names made unique within one suite, in the order of ``runs``."""
    repeats = Counter(run.test_name for run in runs)
    # Cleaned first: names differing only in illegal characters would otherwise clash in the output.
    bases = [
        f"{_clean(run.test_name)} [trial {run.trial}]"
        if run.trial > 1 or repeats[run.test_name] > 1
        else _clean(run.test_name)
        for run in runs
    ]
    clashes = Counter(bases)
    names: list[str] = []
    taken: set[str] = set()
    for run, base in zip(runs, bases, strict=True):
        name = base if clashes[base] == 1 else f"{base} #{run.id}"
        # Only a test literally named like another's suffixed name can still clash.
        while name in taken:
            name += f" #{run.id}"
        taken.add(name)
        names.append(name)
    return names


def _testcase(run: Run, classname: str, name: str, max_output_chars: int) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=name, time=_seconds(_millis(run)))
    if run.status is RunStatus.FAILED:
        failing = [check for check in run.checks if not check.passed]
        failure = ET.SubElement(case, "failure")
        if failing:
            failure.set("message", _attribute(_check_message(failing[0])))
            failure.set("type", _attribute(failing[0].name))
            failure.text = _truncate("\n".join(_check_line(check) for check in failing), max_output_chars)
        else:
            failure.set("message", "failed")
            failure.set("type", "failed")
    elif run.status is RunStatus.ERROR:
        error = ET.SubElement(case, "error")
        error.set("message", _attribute(run.error_message or run.error_kind or "error"))
        error.set("type", _attribute(run.error_kind or "error"))
        if run.error_message:
            error.text = _truncate(run.error_message, max_output_chars)
    elif run.status is RunStatus.SKIPPED:
        ET.SubElement(case, "skipped", message=_attribute(run.skip_reason or "skipped"))
    elif run.status is RunStatus.CANCELLED:
        ET.SubElement(case, "skipped", message="cancelled")
    elif not run.status.is_final:
        ET.SubElement(case, "skipped", message=f"not finished ({run.status.value})")
    ET.SubElement(case, "system-out").text = _truncate(_summary(run), max_output_chars)
    return case


def _check_message(check: CheckResult) -> str:
    return check.message or f"expected {_show(check.expected)}, got {_show(check.actual)}"


def _check_line(check: CheckResult) -> str:
    line = f"{check.name}: expected {_show(check.expected)}, got {_show(check.actual)}"
    return f"{line} ({check.message})" if check.message else line


def _show(value: Any) -> str:
    # JSON reads better than repr() for the JSON-like values checks compare.
    return json.dumps(value, ensure_ascii=False, default=str)


def _summary(run: Run) -> str:
    """What a reader of the CI report needs to see without opening callboard."""
    lines = [
        f"run {run.id}: {run.status.value}, target {run.target}, "
        f"trial {run.trial}, attempt {run.attempt}/{run.max_attempts}"
    ]
    if run.score is not None:
        lines.append(f"score: {run.score:g}")
    if run.checks:
        passed = sum(check.passed for check in run.checks)
        lines.append(f"checks: {passed}/{len(run.checks)} passed")
    if run.metrics:
        lines.append("metrics:")
        lines.extend(f"  {name}: {value:g}" for name, value in sorted(run.metrics.items()))
    if run.transcript:
        lines.append("transcript:")
        lines.extend(f"  {entry.speaker}: {entry.text}" for entry in run.transcript)
    if run.artifacts:
        lines.append("artifacts:")
        lines.extend(f"  {name}: {location}" for name, location in sorted(run.artifacts.items()))
    return "\n".join(lines)


def _millis(run: Run) -> int:
    # Whole milliseconds, so suite and root times are exact sums of the case times shown.
    # Clamped at zero: the schema's time pattern has no sign, and a clock step can make one negative.
    return max(0, round(run.duration_ms or 0.0))


def _seconds(millis: int) -> str:
    return f"{millis // 1000}.{millis % 1000:03d}"


def _timestamp(moment: datetime) -> str:
    # ISO 8601 without an offset is what the JUnit schemas accept; stored times are UTC.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _attribute(text: str) -> str:
    return shorten(text, _MAX_ATTRIBUTE_CHARS)


def _truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, including a marker that says it was cut."""
    if len(text) <= limit:
        return text
    marker = f"\n[… truncated: {len(text)} characters in all]"
    return text[: max(limit - len(marker), 0)] + marker


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)
