"""A table that draws only the rows on screen (Textual's line API).

DataTable measures and stores every row it is given: 10,000 rows take seconds to add, so a filter
cannot rebuild it in the 100 ms budget. This table keeps a plain sequence of items and a function that
renders one item's cells, so replacing the rows is O(rows) in Python and drawing is O(screen height).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class Column:
    """A column: its key, header, width (None: shares what the fixed columns leave, in proportion to
    ``weight``) and alignment."""

    key: str
    label: str
    width: int | None = None
    justify: Literal["left", "right"] = "left"
    weight: int = 1


class VirtualTable(ScrollView, can_focus=True):
    """Rows are items of any type; ``render_row`` turns one into its cells, ``row_key`` names it."""

    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        & > .virtual-table--header { background: $panel; color: $foreground; text-style: bold; }
        & > .virtual-table--cursor { background: $block-cursor-blurred-background; }
        & > .virtual-table--empty { color: $text-muted; }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "move_to(0)", "First", show=False),
        Binding("end,G", "move_to(-1)", "Last", show=False),
        Binding("enter", "select", "Open", tooltip="Open the highlighted row"),
    ]

    cursor_row: reactive[int] = reactive(0)

    class RowHighlighted(Message):
        """The cursor moved to the row named ``key``."""

        def __init__(self, table: VirtualTable, key: Hashable) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            """The table (lets ``@on(..., "#id")`` pick a table)."""
            return self.table

    class RowSelected(Message):
        """Enter (or a click on the highlighted row) on the row named ``key``."""

        def __init__(self, table: VirtualTable, key: Hashable) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            """The table (lets ``@on(..., "#id")`` pick a table)."""
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        render_row: Callable[[Any], Sequence[Text]],
        row_key: Callable[[Any], Hashable],
        *,
        empty_text: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self.empty_text = empty_text
        self._render_row = render_row
        self._row_key = row_key
        self._rows: Sequence[Any] = ()
        self._index: dict[Hashable, int] | None = None
        self._widths: tuple[int, list[int]] = (-1, [])

    @property
    def rows(self) -> Sequence[Any]:
        """The items shown, in order."""
        return self._rows

    @property
    def row_count(self) -> int:
        """How many rows are shown."""
        return len(self._rows)

    @property
    def cursor_key(self) -> Hashable | None:
        """The key of the highlighted row, or None when there are no rows."""
        if not self._rows:
            return None
        return self._row_key(self._rows[min(self.cursor_row, len(self._rows) - 1)])

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Show ``rows``; the cursor stays on the same item when it is still there."""
        key = self.cursor_key
        self._rows = rows
        self._index = None
        self.virtual_size = Size(0, len(rows) + 1)
        position = self.index_of(key) if key is not None else None
        self.cursor_row = position if position is not None else self.cursor_row
        self._clamp_cursor()
        self.refresh()

    def index_of(self, key: Hashable) -> int | None:
        """Where the row named ``key`` is, or None."""
        if self._index is None:
            self._index = {self._row_key(item): position for position, item in enumerate(self._rows)}
        return self._index.get(key)

    def move_cursor_to_key(self, key: Hashable) -> None:
        """Highlight the row named ``key`` if it is shown."""
        position = self.index_of(key)
        if position is not None:
            self.cursor_row = position

    def _clamp_cursor(self) -> None:
        self.cursor_row = max(0, min(self.cursor_row, len(self._rows) - 1))

    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, len(self._rows) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        page = self._page_height()
        top = round(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + page:
            self.scroll_to(y=new - page + 1, animate=False)
        self.refresh()
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowHighlighted(self, key))

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    # -- actions ---------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        """Move the cursor ``delta`` rows."""
        self.cursor_row += delta

    def action_page(self, pages: int) -> None:
        """Move the cursor a screenful."""
        self.cursor_row += pages * self._page_height()

    def action_move_to(self, row: int) -> None:
        """Move the cursor to a row (negative counts from the end)."""
        self.cursor_row = row if row >= 0 else len(self._rows) + row

    def action_select(self) -> None:
        """Open the highlighted row."""
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        row = round(self.scroll_offset.y) + offset.y - 1
        if row >= len(self._rows):
            return
        if row == self.cursor_row:
            self.action_select()
        else:
            self.cursor_row = row

    # -- drawing ---------------------------------------------------------------------------------

    def _column_widths(self, total: int) -> list[int]:
        if self._widths[0] == total:
            return self._widths[1]
        fixed = sum(column.width or 0 for column in self.columns) + len(self.columns) - 1
        weights = sum(column.weight for column in self.columns if column.width is None) or 1
        spare = max(0, total - fixed)
        widths = [
            column.width if column.width is not None else max(4, spare * column.weight // weights)
            for column in self.columns
        ]
        self._widths = (total, widths)
        return widths

    def _line(self, cells: Sequence[Text], widths: list[int], style: Style) -> Text:
        line = Text(style=style, end="", no_wrap=True)
        for position, (cell, column, width) in enumerate(zip(cells, self.columns, widths, strict=False)):
            if position:
                line.append(" ")
            text = cell.copy()
            text.truncate(width, overflow="ellipsis")
            padding = " " * (width - text.cell_len)
            if column.justify == "right":
                line.append(padding)
                line.append_text(text)
            else:
                line.append_text(text)
                line.append(padding)
        return line

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        widths = self._column_widths(width)
        base = self.rich_style
        if y == 0:
            header = self._line([Text(column.label) for column in self.columns], widths, base)
            header.stylize(self.get_component_rich_style("virtual-table--header"))
            return self._strip(header, width, base)
        row = round(self.scroll_offset.y) + y - 1
        if row >= len(self._rows):
            if row == 0 and self.empty_text:
                empty = Text(self.empty_text, style=self.get_component_rich_style("virtual-table--empty"))
                return self._strip(empty, width, base)
            return Strip.blank(width, base)
        line = self._line(self._render_row(self._rows[row]), widths, base)
        if row == self.cursor_row:
            line.stylize_before(self.get_component_rich_style("virtual-table--cursor"))
        return self._strip(line, width, base)

    def _strip(self, line: Text, width: int, style: Style) -> Strip:
        return Strip(list(line.render(self.app.console))).adjust_cell_length(width, style)
