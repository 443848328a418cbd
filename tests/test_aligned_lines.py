"""``aligned_lines``: long listings of user data as plain aligned text (``callboard trends``)."""

from __future__ import annotations

from rich.cells import cell_len

from callboard.core.literal import aligned_lines


def test_columns_line_up_by_cell_width_and_numbers_align_right() -> None:
    lines = aligned_lines(("test", "runs"), [("greets 🦜", "7"), ("[bold]x[/x]", "120")], right={1})
    assert lines == [
        "test         runs",
        "───────────  ────",
        "greets 🦜       7",
        "[bold]x[/x]   120",
    ]
    # The parrot is two cells wide: every line ends in the same column.
    assert {cell_len(line) for line in lines} == {17}


def test_control_codes_are_removed_and_empty_trailing_cells_leave_no_spaces() -> None:
    lines = aligned_lines(("name", "flaky"), [("bell\a\rreturn", ""), ("b", "flaky (v2)")])
    assert lines[2] == "bellreturn"
    assert lines[3] == "b           flaky (v2)"
