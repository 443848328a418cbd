"""The ``/`` filter of a list screen: hidden until opened, kept in sight while it filters."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Input


class FilterBox(Input):
    """An input the screen listens to (``Input.Changed``); ``open`` on ``/``, ``leave`` on esc."""

    def __init__(self, placeholder: str, id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, classes="filter-box")

    def open(self) -> None:
        """Show the box and type into it."""
        self.add_class("-shown")
        # At once, not on the next turn as ``focus()`` does: keys typed right after ``/`` (fast typing,
        # a paste) are already queued and must land in the box.
        self.screen.set_focus(self)

    def leave(self, back_to: Widget) -> None:
        """From the box: back to the list (the box stays while it filters). From the list: clear it."""
        if self.has_focus:
            self.set_class(bool(self.value), "-shown")
            self.screen.set_focus(back_to)
        elif self.value:
            self.value = ""
            self.remove_class("-shown")


def words(query: str) -> list[str]:
    """The lower-cased words of a filter; a row matches when its text holds every one."""
    return query.lower().split()


def matches(haystack: str, query_words: list[str]) -> bool:
    """Whether the lower-cased ``haystack`` holds every word."""
    return all(word in haystack for word in query_words)
