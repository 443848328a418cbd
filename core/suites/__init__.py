"""Suite files: TOML (the source format) and CSV imports, and TOML export."""

from callboard.core.suites.errors import SuiteError, SuiteProblem
from callboard.core.suites.export import dump_toml_suite
from callboard.core.suites.loader import SuiteLimits, load_suite_outlines, load_suites

__all__ = [
    "SuiteError",
    "SuiteLimits",
    "SuiteProblem",
    "dump_toml_suite",
    "load_suite_outlines",
    "load_suites",
]
