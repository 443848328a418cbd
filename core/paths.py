"""Where the daemon of a state directory keeps its socket, lock, pid file and log, and whether
something answers on its socket.

Shared by the daemon and its clients, so it imports nothing but the settings.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
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
        configured = settings.daemon.socket_path
        socket = _private_socket(configured.expanduser().absolute()) if configured else None
        return cls(
            state_dir=state_dir,
            socket=socket or _default_socket(state_dir),
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
    """The socket in the state directory's own ``run`` folder, or in a private folder of the temp dir
    when that path is too long for a socket address."""
    socket = state_dir / "run" / "callboard.sock"
    if len(os.fsencode(socket)) <= MAX_SOCKET_PATH:
        return socket
    # Too long for a socket address: a private folder in the temp dir, one socket per state dir
    # (as tmux does with /tmp/tmux-UID).
    digest = hashlib.sha256(os.fsencode(state_dir)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"callboard-{os.getuid()}" / f"{digest}.sock"


def _private_socket(configured: Path) -> Path:
    """Where a configured socket really goes: at that path when its folder is (or will be, made by
    callboard) private to this user; otherwise in a private subfolder ``callboard-<uid>`` of it, so a
    shared folder such as /tmp is used as it is and never made private."""
    try:
        info = configured.parent.lstat()
    except FileNotFoundError:
        return configured
    except OSError:
        info = None
    if info is not None and is_private_dir(info):
        return configured
    return configured.parent / f"callboard-{os.getuid()}" / configured.name


def is_private_dir(info: os.stat_result) -> bool:
    """Whether ``info`` is a real folder of this user that nobody else can enter (0700)."""
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) == 0o700


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents, each 0700 whatever the umask; existing folders are left
    exactly as they are (callboard never changes a folder it did not create)."""
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # the umask may have taken bits away from mkdir's mode, never added


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
