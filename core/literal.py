"""User data is drawn as it reads.

Test names, check expressions, agent replies, command output, labels and error messages go to the
screen through Rich (the CLI) and Textual (the TUI), and both parse strings as markup by default:
``[/INST]`` raises ``MarkupError``, ``[smoke] greeting`` loses ``[smoke]``, ``:smile:`` turns into an
emoji. Everything that shows user data goes through this module instead: ``literal`` makes a ``Text``
that no parser touches, and ``plain_console`` makes a console that prints strings as they are.
``tests/test_literal_text_guard.py`` reads the source and fails on any other way to the screen: a bare
``Console()``, markup parsed from a built string, a TUI ``Static``/``Label`` without ``markup=False``, a
plain ``DataTable``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Container, Sequence
from typing import IO, Any

from rich.cells import cell_len
from rich.console import Console
from rich.control import strip_control_codes
from rich.style import StyleType
from rich.text import Text

# Piped output (CI logs, grep) is as wide as its longest line instead of cut at 80 columns.
PIPED_WIDTH = 1_000_000


def literal(value: object, style: StyleType = "") -> Text:
    """``value`` as text drawn exactly as it reads: ``[bold]`` stays ``[bold]``, ``:smile:`` stays."""
    return Text(str(value), style=style)


def literal_cells(*cells: object) -> list[Text | Any]:
    """A table row of user data: strings (and numbers) become ``literal`` text, renderables stay."""
    return [literal(cell) if isinstance(cell, str | int | float) else cell for cell in cells]


def plain_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A console whose strings are never markup or emoji codes; piped, it uses the full line width
    (``COLUMNS`` still wins) instead of cutting tables at 80 columns."""
    stream = file or (sys.stderr if stderr else sys.stdout)
    piped = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(
        file=file,
        stderr=stderr,
        markup=False,
        emoji=False,
        highlight=False,
        width=PIPED_WIDTH if piped else None,
    )


def aligned_lines(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Container[int] = ()
) -> list[str]:
    """A long listing of user data as plain text: the headers, a rule, then a line per row, columns two
    spaces apart (those whose index is in ``right`` aligned right), drawn as they read (control codes
    removed, as ``literal`` text has them). A Rich table lays out and renders every cell, seconds for
    thousands of rows; this pads each once."""
    cells = [[strip_control_codes(cell) for cell in row] for row in rows]
    widths = [
        max([cell_len(header), *(cell_len(row[index]) for row in cells)])
        for index, header in enumerate(headers)
    ]

    def line(row: Sequence[str]) -> str:
        padded = []
        for index, (cell, width) in enumerate(zip(row, widths, strict=True)):
            gap = " " * (width - cell_len(cell))
            padded.append(gap + cell if index in right else cell + gap)
        return "  ".join(padded).rstrip()

    return [line(headers), "  ".join("─" * width for width in widths), *(line(row) for row in cells)]
