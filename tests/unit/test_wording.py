"""Counts read as English in the CLI and the TUI alike."""

from __future__ import annotations

from callboard.core.wording import plural


def test_one_is_singular_and_the_rest_plural() -> None:
    assert plural(1, "run") == "1 run"
    assert plural(0, "run") == "0 runs"
    assert plural(1, "test") == "1 test" and plural(2, "test") == "2 tests"
    assert plural(1, "batch") == "1 batch" and plural(3, "batch") == "3 batches"
    assert plural(12_345, "example test") == "12,345 example tests"
