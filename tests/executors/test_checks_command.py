"""Checks on a command's exit code and stdout."""

from __future__ import annotations

from callboard.core.checks import evaluate_command_check, evaluate_command_checks
from callboard.core.models.checks import BodyCheck, ExitCodeCheck, StatusCheck


def test_exit_code_check() -> None:
    assert evaluate_command_check(ExitCodeCheck(exit_code=0), 0, "").passed
    failed = evaluate_command_check(ExitCodeCheck(exit_code=0), 2, "")
    assert not failed.passed and failed.actual == 2 and "2" in failed.message


def test_body_checks_read_stdout() -> None:
    checks = [BodyCheck(regex=r"Python 3\.\d+"), BodyCheck(equals="hello"), BodyCheck(not_contains="Python")]
    results = evaluate_command_checks(checks, 0, "Python 3.11.7\n")
    assert [r.passed for r in results] == [True, False, False]
    assert evaluate_command_check(BodyCheck(equals="hello"), 0, "hello\n").passed
    assert results[2].message.startswith("stdout")


def test_http_check_on_a_command_is_not_applicable() -> None:
    result = evaluate_command_check(StatusCheck(status=200), 0, "")
    assert not result.passed and "does not apply" in result.message
