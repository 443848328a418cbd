"""Names people give (tests, schedules, tags): one line of text, no control characters.

A NUL byte or a newline in a name breaks exports and re-imports and can forge lines in the daemon's
log, so names are refused when they hold any. The rule is enforced by ``check_name`` (with a clear
message) and stated in the JSON schema as ``NAME_PATTERN`` so the OpenAPI document says the same.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from callboard.core.models.schema_rules import case_insensitive

_CONTROL = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029"
NAME_PATTERN = f"^[^{_CONTROL}]*[^{_CONTROL}\\s][^{_CONTROL}]*$"
"""Some visible text, with no control character or line break anywhere (spaces around are trimmed)."""
NAME_SCHEMA: dict[str, Any] = {"pattern": NAME_PATTERN}
_CONTROL_RE = re.compile(f"[{_CONTROL}]")


def check_name(value: str, what: str = "a name") -> str:
    """``value`` trimmed; ValueError when it is blank or holds a control character or line break."""
    if _CONTROL_RE.search(value):
        raise ValueError(f"{what} must be one line of text without control characters")
    value = value.strip()
    if not value:
        raise ValueError(f"{what} must not be blank")
    return value


# Environment variable names a command test may be given (and the settings' pass_env).
def _not_callboard_setting(name: str) -> str:
    if name.upper().startswith("CALLBOARD_"):
        raise ValueError("CALLBOARD_* variables are callboard's own settings and are never passed on")
    return name


EnvVarName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        json_schema_extra={"not": {"pattern": case_insensitive("callboard_", prefix=True)}},
    ),
    AfterValidator(_not_callboard_setting),
]
