"""Check evaluation: turns check definitions plus what was observed into CheckResults."""

from callboard.core.checks.command_checks import evaluate_command_check, evaluate_command_checks
from callboard.core.checks.http_checks import HttpObservation, evaluate_http_check, evaluate_http_checks
from callboard.core.checks.jsonpath import compile_jsonpath, first_match

__all__ = [
    "HttpObservation",
    "compile_jsonpath",
    "evaluate_command_check",
    "evaluate_command_checks",
    "evaluate_http_check",
    "evaluate_http_checks",
    "first_match",
]
