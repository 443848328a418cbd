"""``?``: every key of the screen it was opened from, with what it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from callboard.tui.widgets.literal_table import LiteralDataTable


@dataclass(frozen=True)
class KeyHelp:
    """One line of help."""

    key: str
    description: str
    tooltip: str
    enabled: bool


class HelpScreen(ModalScreen[None]):
    """The keys, greyed ones marked as unavailable now."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close", tooltip="Back"),
    ]

    def __init__(self, place: str, keys: list[KeyHelp]) -> None:
        super().__init__(classes="dialog-screen")
        self.place = place
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Keys — {self.place}", classes="dialog-title", markup=False)
            yield LiteralDataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            yield Label(
                "ctrl+p opens the command palette: every action above, by name.", classes="hint", markup=False
            )

    def on_mount(self) -> None:
        table = self.query_one(LiteralDataTable)
        table.add_columns("key", "action", "what it does")
        for key in self.keys:
            note = key.tooltip if key.enabled else f"{key.tooltip} (not available now)"
            table.add_row(key.key, key.description, note)
