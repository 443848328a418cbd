"""Counts read as English in the CLI and the TUI alike."""

from __future__ import annotations

from callboard.core.wording import first_line, percent, plural, shorten, shorten_value


def test_one_is_singular_and_the_rest_plural() -> None:
    assert plural(1, "run") == "1 run"
    assert plural(0, "run") == "0 runs"
    assert plural(1, "test") == "1 test" and plural(2, "test") == "2 tests"
    assert plural(1, "batch") == "1 batch" and plural(3, "batch") == "3 batches"
    assert plural(12_345, "example test") == "12,345 example tests"


def test_percentages_have_one_decimal_and_a_mark_for_none() -> None:
    assert percent(97.5) == "97.5%" and percent(40) == "40.0%" and percent(100.0) == "100.0%"
    assert percent(None) == "-" and percent(None, "—") == "—"


def test_long_text_is_cut_to_its_limit_with_an_ellipsis() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("x" * 10, 10) == "x" * 10
    cut = shorten("x" * 11, 10)
    assert cut == "x" * 9 + "…" and len(cut) == 10
    assert first_line("\n  first line\nsecond\n", 5) == "firs…"
    assert first_line("   ", 5) == ""
    assert shorten_value({"a": [1, 2]}, 100) == '{"a": [1, 2]}'
    assert shorten_value("[x]", 100) == "[x]"  # strings as they are, not JSON-quoted
    assert len(shorten_value(list(range(100)), 20)) == 20
