"""Where the example suites are: they ship inside the package as ``callboard.examples`` (the
top-level examples/ folder of a checkout), so the demo works from a wheel, pipx or a checkout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from callboard.core.cli.context import fail

_PACKAGE = "callboard.examples"


def examples_dir() -> Path:
    """The installed examples folder; ends the command when the install has none."""
    spec = importlib.util.find_spec(_PACKAGE)
    # A data-only namespace package: its search locations are folders (and, in an editable
    # install, the finder's placeholder, which is no folder).
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location)
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    fail(f"this install of callboard has no example suites ({_PACKAGE}); reinstall callboard")


def example_files() -> list[Path]:
    """The example suite files, TOML first, then CSV, each in name order."""
    folder = examples_dir()
    return sorted(folder.glob("*.toml")) + sorted(folder.glob("*.csv"))
