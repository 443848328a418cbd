"""Where the daemon of a state directory keeps its socket, lock, pid file and log, and whether
something answers on its socket.

Shared by the daemon and its clients, so it imports nothing but the settings.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from callboard.core.config import Settings

# sockaddr_un.sun_path holds 108 bytes on Linux (104 on macOS), including the final NUL.
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class DaemonPaths:
    """The files of one daemon."""

    state_dir: Path
    socket: Path
    lock: Path
    pid: Path
    log: Path
    start_log: Path

    @classmethod
    def of(cls, settings: Settings) -> DaemonPaths:
        """The paths for these settings' state directory."""
        state_dir = settings.state_dir.expanduser().absolute()
        socket = settings.daemon.socket_path or _default_socket(state_dir)
        return cls(
            state_dir=state_dir,
            socket=socket.expanduser().absolute(),
            lock=state_dir / "daemon.lock",
            pid=state_dir / "daemon.pid",
            log=settings.log_dir / "daemon.log",
            start_log=settings.log_dir / "daemon-start.log",
        )

    def read_pid(self) -> int | None:
        """The pid the running daemon wrote, or None."""
        try:
            return int(self.pid.read_text().strip())
        except (OSError, ValueError):
            return None


def _default_socket(state_dir: Path) -> Path:
    socket = state_dir / "run" / "callboard.sock"
    if len(os.fsencode(socket)) <= MAX_SOCKET_PATH:
        return socket
    # Too long for a socket address: a private folder in the temp dir, one socket per state dir
    # (as tmux does with /tmp/tmux-UID).
    digest = hashlib.sha256(os.fsencode(state_dir)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"callboard-{os.getuid()}" / f"{digest}.sock"


def socket_answers(path: Path) -> bool:
    """Whether something accepts connections on the Unix socket at ``path`` (a leftover file of a dead
    daemon refuses them)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True
