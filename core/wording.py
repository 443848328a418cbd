"""Values in words, the same everywhere they are shown (CLI, TUI, reports, notifications, checks):
counts ("1 test", "2 batches"), percentages, and long text shortened to fit."""

from __future__ import annotations

import json

# Nouns whose plural is not the noun plus "s".
_IRREGULAR = {"batch": "batches"}
ELLIPSIS = "…"


def plural(count: int, noun: str) -> str:
    """``3 tests``, ``1 test``, ``1,204 runs``, ``2 batches``."""
    return f"{count:,} {noun if count == 1 else _IRREGULAR.get(noun, noun + 's')}"


def percent(value: float | None, missing: str = "-") -> str:
    """``97.5%``, or ``missing`` when there is no value."""
    return missing if value is None else f"{value:.1f}%"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def first_line(text: str, limit: int) -> str:
    """The first line of ``text`` (blank lines around it dropped), shortened to ``limit`` characters."""
    stripped = text.strip()
    return shorten(stripped.splitlines()[0] if stripped else "", limit)


def shorten_value(value: object, limit: int) -> str:
    """A value (a check's expected or actual, an artifact) as text: strings as they are, anything else
    as JSON, shortened to ``limit`` characters."""
    return shorten(value if isinstance(value, str) else json.dumps(value, default=str), limit)
