"""Rich styles taken from the app's theme variables, for text drawn outside CSS (table cells)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color

from callboard.core.models.runs import RunStatus
from callboard.tui.formatting import STATUS_LOOK, status_label

MUTED = Style(dim=True)


def theme_style(app: App[Any], variable: str | None, *, bold: bool = False) -> Style:
    """The colour of theme variable ``variable`` (e.g. ``"text-success"``); None gives muted text."""
    if variable is None:
        return MUTED
    return Style(color=Color.parse(app.theme_variables[variable]).rich_color, bold=bold)


def status_text(app: App[Any], status: RunStatus | None, now: datetime) -> Text:
    """A run status, glyph and name, in its theme colour."""
    if status is None:
        return Text("—", style=MUTED)
    return Text(status_label(status, now), style=theme_style(app, STATUS_LOOK[status][1]))
