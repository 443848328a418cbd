"""A full screen around one list, with the ``/`` filter box above it (Tests, Simulations, Schedules,
Trends): ``/`` opens the box, typing filters at once, enter or esc goes back to the list, esc on the
list clears the filter."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Input

from callboard.tui.screens.base import CallboardScreen
from callboard.tui.widgets.filter_box import FilterBox


class ListScreen(CallboardScreen):
    """Subclasses name their list (``LIST_ID``), yield ``self.filter_box()`` and ``apply_filter``, bind
    ``/`` with ``FILTER_BINDING`` and end their ``check_action`` with this class's."""

    LIST_ID = ""
    FILTER_HINT = "filter"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "leave_filter",
            "Clear filter",
            id="list.clear_filter",
            show=False,
            tooltip="Leave the filter box, or clear the filter",
        ),
    ]

    @staticmethod
    def filter_binding(id: str, tooltip: str) -> Binding:
        """The ``/`` key. A priority binding: it acts before the keys typed after it are handed to the
        list, so fast typing (or a paste) lands in the box whole."""
        return Binding("slash", "filter", "Filter", id=id, tooltip=tooltip, priority=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In the box, "/" is a character to type. (The screen's focus, not ``has_focus``: that is set
        # only when the box has handled its Focus message, after keys already on their way.)
        if action == "filter":
            boxes = self.query(FilterBox)
            return not (boxes and self.focused is boxes.first())
        return True

    def filter_box(self) -> FilterBox:
        """The box, for ``compose_body``."""
        return FilterBox(f"filter: {self.FILTER_HINT}", id="filter")

    def apply_filter(self, query: str) -> None:
        """Show only the rows whose text holds every word of ``query``."""
        raise NotImplementedError

    @property
    def filter_query(self) -> str:
        """What the box holds now."""
        return self.query_one(FilterBox).value

    def action_filter(self) -> None:
        """Show the filter box and type into it."""
        self.query_one(FilterBox).open()

    def action_leave_filter(self) -> None:
        """From the box: back to the list. From the list: clear the filter."""
        self.query_one(FilterBox).leave(self.query_one(f"#{self.LIST_ID}"))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.apply_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_leave_filter()
