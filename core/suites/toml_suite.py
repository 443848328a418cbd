"""Read a TOML suite: an array of ``[[test]]`` tables."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from callboard.core.models import TestDefinition, parse_test
from callboard.core.suites.errors import SuiteProblem, problems_from_validation

_TEST_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*test[ \t]*\]\]", re.MULTILINE)
_TOP_LEVEL_KEYS = {"test"}


def _header_lines(text: str) -> list[int]:
    """Line numbers of each ``[[test]]`` header, so errors can point at the table."""
    return [text.count("\n", 0, match.start()) + 1 for match in _TEST_HEADER.finditer(text)]


def read_toml_suite(path: Path, text: str) -> Iterator[tuple[TestDefinition | None, list[SuiteProblem]]]:
    """Yield each test with the problems found in it (the test is None when it is invalid)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        yield None, [SuiteProblem(file=str(path), message=f"not valid TOML: {exc}")]
        return
    unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
    if unknown:
        message = f"unknown top-level key(s) {', '.join(unknown)}; a suite is a list of [[test]] tables"
        yield None, [SuiteProblem(file=str(path), message=message)]
        return
    entries = data.get("test", [])
    if not isinstance(entries, list):
        yield None, [SuiteProblem(file=str(path), message="'test' must be an array of tables ([[test]])")]
        return
    if not entries:
        yield None, [SuiteProblem(file=str(path), message="no tests: a suite holds [[test]] tables")]
        return
    lines = _header_lines(text)
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        yield _parse_entry(path, line, index, entry)


def _parse_entry(
    path: Path, line: int | None, index: int, entry: Any
) -> tuple[TestDefinition | None, list[SuiteProblem]]:
    if not isinstance(entry, dict):
        return None, [SuiteProblem(file=str(path), line=line, message=f"test #{index + 1} is not a table")]
    name = entry.get("name") if isinstance(entry.get("name"), str) else f"#{index + 1}"
    kind = entry.get("kind") if isinstance(entry.get("kind"), str) else None
    try:
        return parse_test(entry), []
    except ValidationError as exc:
        return None, problems_from_validation(exc, file=str(path), line=line, test=name, kind=kind)
