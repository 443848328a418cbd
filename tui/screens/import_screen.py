"""Import suite files (TOML or CSV) by path; the daemon's error, naming file, line, test and field,
is shown in place so the path can be fixed and tried again."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from callboard.core.client import ApiFailure, DaemonUnavailable
from callboard.core.models.api import ImportResult
from callboard.tui.context import context_of


class ImportScreen(ModalScreen[ImportResult | None]):
    """Dismissed with what the import did, or None when abandoned."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="import.cancel", tooltip="Close without importing"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Import suite files", classes="dialog-title", markup=False)
            yield Static("TOML or CSV; several paths separated by spaces. All or nothing.", markup=False)
            yield Input(placeholder="path/to/suite.toml", id="import-path")
            yield Static("", id="import-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import", variant="primary", id="import-go")
                yield Button("Cancel", id="import-cancel")

    @on(Button.Pressed, "#import-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#import-go")
    @on(Input.Submitted, "#import-path")
    def _submit(self) -> None:
        self.run_import(self.query_one("#import-path", Input).value)

    def show_error(self, text: str) -> None:
        """Say what went wrong under the path."""
        error = self.query_one("#import-error", Static)
        error.update(text)
        error.set_class(bool(text), "-shown")

    @work(exclusive=True, group="import")
    async def run_import(self, value: str) -> None:
        """Ask the daemon to import the files in ``value``."""
        try:
            paths = [Path(part).expanduser() for part in shlex.split(value)]  # noqa: ASYNC240 (no disk I/O)
        except ValueError as exc:
            self.show_error(f"cannot read the paths: {exc}")
            return
        if not paths:
            self.show_error("enter the path of a suite file")
            return
        self.show_error("")
        try:
            result = await context_of(self).client.import_tests(paths=paths)
        except ApiFailure as exc:
            self.show_error(exc.message)
        except DaemonUnavailable:
            self.show_error("the daemon does not answer")
        else:
            self.dismiss(result)
