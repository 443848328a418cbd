"""The unsafe path stays closed: no code hands user data to a markup parser.

User data reaches the screen only through ``callboard.core.literal`` (``literal``, ``plain_console``) and,
in the TUI, ``LiteralDataTable`` and widgets made with ``markup=False``. These checks read the source
(AST), so a new ``Console()``, a ``Static(f"...")`` or a plain ``DataTable`` fails here before it can
crash on a test named ``[/INST]``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from textual.app import App

from callboard.tui.app import CallboardApp

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(REPO / "core").rglob("*.py"), *(REPO / "tui").rglob("*.py")])
TUI = REPO / "tui"
LITERAL = REPO / "core" / "literal.py"
LITERAL_TABLE = TUI / "widgets" / "literal_table.py"
# Textual widgets that parse a string as markup unless told ``markup=False``.
MARKUP_WIDGETS = {"Static", "Label"}


def _calls(path: Path) -> Iterator[ast.Call]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            yield node


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        return f"{owner}.{func.attr}" if owner else func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _keyword(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else keyword.value
    return None


def _where(path: Path, call: ast.Call) -> str:
    return f"{path.relative_to(REPO)}:{call.lineno}"


def test_consoles_come_from_plain_console() -> None:
    # A rich Console parses every string it prints as markup and :emoji: codes.
    found = [
        _where(path, call)
        for path in SOURCES
        if path != LITERAL
        for call in _calls(path)
        if _name(call) in ("Console", "rich.Console")
    ]
    assert found == [], "use callboard.core.literal.plain_console()"


def test_nothing_parses_markup_from_a_value() -> None:
    found = []
    for path in SOURCES:
        for call in _calls(path):
            name = _name(call)
            if (
                name in ("Text.from_markup", "render_markup", "markup.render")
                or _keyword(call, "markup") is True
            ):
                found.append(_where(path, call))
            # Content.from_markup("[b]$x[/b]", x=value) inserts values literally; a built string is not.
            if name == "Content.from_markup" and not (call.args and isinstance(call.args[0], ast.Constant)):
                found.append(_where(path, call))
            # Rich's TextColumn parses its formatted text as markup by default.
            if name == "TextColumn" and _keyword(call, "markup") is not False:
                found.append(_where(path, call))
    assert found == []


def test_tui_text_widgets_are_made_without_markup() -> None:
    found = [
        _where(path, call)
        for path in TUI.rglob("*.py")
        for call in _calls(path)
        if _name(call) in MARKUP_WIDGETS and _keyword(call, "markup") is not False
    ]
    assert found == [], "pass markup=False: these widgets show (or may later show) user data"


def test_every_tui_data_table_is_literal() -> None:
    found = []
    for path in TUI.rglob("*.py"):
        if path == LITERAL_TABLE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) == "DataTable":
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(base) for base in node.bases]
                if any(base.startswith("DataTable") for base in bases):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == [], "use LiteralDataTable: DataTable reads string cells as markup"


def test_toasts_never_parse_markup() -> None:
    # Widgets' notify() passes markup=True by default; the app's notify is where it is turned off.
    assert CallboardApp.notify is not App.notify
