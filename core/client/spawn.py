"""Start a process in the background, detached from this terminal: its own session (no SIGHUP when
the terminal closes), no stdin, its output in a log file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def spawn_detached(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """``python -m`` style ``args`` run with this interpreter; stdout and stderr go to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env=os.environ.copy(),
        )
