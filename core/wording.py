"""Counts in words, the same in the CLI and the TUI: "1 test", "3 tests", "1 batch", "2 batches"."""

from __future__ import annotations

# Nouns whose plural is not the noun plus "s".
_IRREGULAR = {"batch": "batches"}


def plural(count: int, noun: str) -> str:
    """``3 tests``, ``1 test``, ``1,204 runs``, ``2 batches``."""
    return f"{count:,} {noun if count == 1 else _IRREGULAR.get(noun, noun + 's')}"
