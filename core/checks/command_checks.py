"""Checks on how a command ended: its exit code and its standard output."""

from __future__ import annotations

from collections.abc import Iterable

from callboard.core.checks.body import evaluate_body_check
from callboard.core.checks.common import not_applicable, result
from callboard.core.models import CheckBase, CheckResult
from callboard.core.models.checks import BodyCheck, ExitCodeCheck


def evaluate_command_checks(checks: Iterable[CheckBase], exit_code: int, stdout: str) -> list[CheckResult]:
    """Every check judged against the command's exit code and (the kept tail of) its stdout."""
    return [evaluate_command_check(check, exit_code, stdout) for check in checks]


def evaluate_command_check(check: CheckBase, exit_code: int, stdout: str) -> CheckResult:
    """Judge one check: ExitCodeCheck against the exit code, BodyCheck against stdout."""
    if isinstance(check, ExitCodeCheck):
        passed = exit_code == check.exit_code
        message = "" if passed else f"exited with {exit_code}"
        return result(check, passed=passed, expected=check.exit_code, actual=exit_code, message=message)
    if isinstance(check, BodyCheck):
        return evaluate_body_check(check, stdout, "stdout")
    return not_applicable(check, "a command")
