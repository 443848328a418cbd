"""Load suite files all-or-nothing: every problem in every file is collected, and any problem
means no test is returned, so a bad import stores nothing."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from callboard.core.models import CommandTest, TestDefinition, TestOutline
from callboard.core.suites.csv_suite import read_csv_suite
from callboard.core.suites.encoding import not_utf8_message
from callboard.core.suites.errors import SuiteError, SuiteProblem
from callboard.core.suites.toml_suite import read_toml_suite

# Past this many problems the rest of a broken file adds nothing useful.
_MAX_PROBLEMS = 200


@dataclass(frozen=True)
class SuiteLimits:
    """Bounds that keep a huge file from exhausting memory."""

    max_tests: int = 100_000
    max_file_bytes: int = 100 * 1024 * 1024


_Kept = TypeVar("_Kept")


def load_suites(paths: Iterable[Path], limits: SuiteLimits | None = None) -> list[TestDefinition]:
    """Read every file; return all tests, or raise SuiteError listing every problem found."""
    return _load(paths, limits or SuiteLimits(), lambda test: test)


def load_suite_outlines(paths: Iterable[Path], limits: SuiteLimits | None = None) -> list[TestOutline]:
    """``load_suites``, each test kept as its outline as soon as it is read: an import of 10,000 tests
    never holds 10,000 parsed trees (about 6 kB each) at once."""
    return _load(paths, limits or SuiteLimits(), TestOutline.of)


def _load(paths: Iterable[Path], limits: SuiteLimits, keep: Callable[[TestDefinition], _Kept]) -> list[_Kept]:
    tests: list[_Kept] = []
    problems: list[SuiteProblem] = []
    first_seen: dict[str, str] = {}
    for path in paths:
        for test, found in _read(path, limits):
            problems.extend(found)
            if test is None:
                continue
            if test.name in first_seen:
                where = first_seen[test.name]
                problems.append(
                    SuiteProblem(
                        file=str(path),
                        test=test.name,
                        field="name",
                        message=f"duplicate name (first in {where})",
                    )
                )
                continue
            first_seen[test.name] = str(path)
            tests.append(keep(_anchored(test, path)))
            if len(tests) > limits.max_tests:
                message = f"more than {limits.max_tests} tests; split the suite or raise imports.max_tests"
                raise SuiteError([SuiteProblem(file=str(path), message=message)])
            if len(problems) >= _MAX_PROBLEMS:
                raise SuiteError(problems)
    if problems:
        raise SuiteError(problems)
    return tests


def _anchored(test: TestDefinition, path: Path) -> TestDefinition:
    """A command test's directory made absolute: relative to the suite file's folder, which is also
    the default, so the command never runs wherever the daemon happened to start."""
    if not isinstance(test, CommandTest):
        return test
    cwd = path.resolve().parent / Path(test.cwd or ".").expanduser()
    return test.model_copy(update={"cwd": str(cwd.resolve())})


def _read(path: Path, limits: SuiteLimits) -> Iterator[tuple[TestDefinition | None, list[SuiteProblem]]]:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".csv"):
        yield None, [SuiteProblem(file=str(path), message="unknown suite format; use a .toml or .csv file")]
        return
    try:
        info = path.stat()
    except OSError as exc:
        yield None, [SuiteProblem(file=str(path), message=f"cannot read: {exc.strerror}")]
        return
    if not stat.S_ISREG(info.st_mode):
        # Reading a FIFO or a device could block for ever, and a folder is not a suite.
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        yield None, [SuiteProblem(file=str(path), message=f"{what}; give a .toml or .csv suite file")]
        return
    size = info.st_size
    if suffix == ".csv":
        # CSV is streamed row by row, so only the test count bounds it.
        yield from read_csv_suite(path)
        return
    if size > limits.max_file_bytes:
        limit_mb = limits.max_file_bytes / 1024 / 1024
        yield None, [SuiteProblem(file=str(path), message=f"file is larger than {limit_mb:g} MB")]
        return
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is allowed, as in CSV files
    except UnicodeDecodeError:
        yield None, [SuiteProblem(file=str(path), message=not_utf8_message(path))]
        return
    except OSError as exc:
        yield None, [SuiteProblem(file=str(path), message=f"cannot read: {exc.strerror}")]
        return
    yield from read_toml_suite(path, text)
