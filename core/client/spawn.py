"""Start a process in the background, detached from this terminal: its own session (no SIGHUP when
the terminal closes), no stdin, its output in a log file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from callboard.core.paths import make_private_dir


def spawn_detached(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """``python -m`` style ``args`` run with this interpreter; stdout and stderr go to ``log_path``."""
    make_private_dir(log_path.parent)
    # Private like every file callboard writes: the log may show run details.
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # one left by an older version may be readable by others
    with open(fd, "wb") as log:
        return subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env=os.environ.copy(),
        )
