"""Files a command writes (``--junit``, ``-o``, ``--html``): checked before any work is done, written
with a one-line error naming the path instead of a traceback."""

from __future__ import annotations

import os
from pathlib import Path

from callboard.core.cli.context import EXIT_USAGE, fail


def unwritable_reason(path: Path) -> str | None:
    """Why a file cannot be written at ``path``, or None when it can (as far as can be told first)."""
    if path.is_dir():
        return "is a directory"
    parent = path.absolute().parent
    if not parent.exists():
        return f"its folder {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return "is not writable"
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        return f"its folder {parent} is not writable"
    return None


def check_writable(path: Path, option: str) -> None:
    """End the command (exit 2) unless ``path``, given to ``option``, can be written."""
    reason = unwritable_reason(path)
    if reason is not None:
        fail(f"{option} {path}: cannot write the file: {reason}", code=EXIT_USAGE)


def write_file(path: Path, data: bytes, option: str) -> None:
    """Write ``data`` to ``path``; a failure ends the command (exit 2) with one line naming the path."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        fail(f"{option} {path}: cannot write the file: {exc.strerror or exc}", code=EXIT_USAGE)
