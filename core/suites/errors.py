"""Errors from reading suite files, each naming file, line, test and field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class SuiteProblem:
    """One thing wrong with a suite file."""

    file: str
    message: str
    line: int | None = None
    test: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        parts = [where]
        if self.test is not None:
            parts.append(f"test '{self.test}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.message}"


class SuiteError(Exception):
    """A suite could not be imported; nothing was stored."""

    def __init__(self, problems: list[SuiteProblem]) -> None:
        self.problems = problems
        shown = [str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
        super().__init__("\n".join(shown))


def field_path(loc: tuple[Any, ...]) -> str:
    """Turn a pydantic location into ``checks[1].status`` form, dropping the union's kind tag."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def problems_from_validation(
    exc: ValidationError,
    *,
    file: str,
    line: int | None,
    test: str | None,
    kind: str | None,
    field_names: dict[str, str] | None = None,
) -> list[SuiteProblem]:
    """One problem per pydantic error; ``field_names`` maps model fields to source columns (CSV)."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if kind and loc and loc[0] == kind:
            loc = loc[1:]
        path = field_path(loc)
        if field_names:
            path = field_names.get(path.split(".")[0].split("[")[0], path)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "unknown_check" and isinstance(error.get("input"), dict):
            message = f"unknown check {{{', '.join(map(str, error['input']))}}}: {message.split(': ', 1)[1]}"
        elif error["type"] == "union_tag_invalid":
            message = "unknown kind; use one of http, conversation, call, voice, command"
        problems.append(SuiteProblem(file=file, line=line, test=test, field=path or None, message=message))
    return problems
