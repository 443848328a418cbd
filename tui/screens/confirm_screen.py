"""A yes/no question before anything that queues, cancels or deletes."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static
from textual.widgets.button import ButtonVariant


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True when confirmed (``y``, enter on the button), False otherwise (``n``, esc).

    ``confirm`` and ``refuse`` label the two buttons; a question that is itself about cancelling says
    e.g. "Cancel it" / "Keep it", so that neither button reads as the other."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Leave things as they are"),
    ]

    def __init__(
        self, title: str, body: str, confirm: str = "OK", *, danger: bool = False, refuse: str = "Cancel"
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.body = body
        self.confirm = confirm
        self.refuse = refuse
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.body, classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                variant: ButtonVariant = "error" if self.danger else "primary"
                yield Button(f"{self.confirm} (y)", variant=variant, id="confirm-yes")
                yield Button(f"{self.refuse} (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:  # noqa: FBT001 (Textual passes action arguments by position)
        """Close with ``answer``."""
        self.dismiss(answer)
