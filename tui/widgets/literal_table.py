"""A DataTable whose cells are always drawn as they read.

Textual's DataTable parses a string cell as markup: a test named ``[smoke] greeting`` loses ``[smoke]``
and a reply with ``[/help]`` raises ``MarkupError``. Every DataTable in the TUI is this one, which turns
strings into literal text on the way in (``tests/test_literal_text_guard.py`` checks that no other is
made)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from callboard.core.literal import literal


class LiteralDataTable(DataTable[Any]):
    """``DataTable`` with literal cells: strings become ``Text``; numbers (drawn as they are, and sorted
    as numbers) and renderables stay."""

    def add_row(
        self,
        *cells: object,
        height: int | None = 1,
        key: str | None = None,
        label: Text | str | None = None,
    ) -> RowKey:
        return super().add_row(
            *(_literal(cell) for cell in cells),
            height=height,
            key=key,
            label=None if label is None else literal(label),
        )

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: object,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, _literal(value), update_width=update_width)


def _literal(cell: object) -> object:
    return literal(cell) if isinstance(cell, str) else cell
