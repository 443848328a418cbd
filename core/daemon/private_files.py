"""The daemon's files are private to its user: the database (with its WAL and shared-memory files),
logs, and anything else it writes are 0600, and the folders it creates 0700.

The umask does it for everything created from now on; files an older version left readable by others
are tightened once at start. Folders that already exist are never changed (a state directory may be a
shared one the administrator chose)."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from callboard.core.config import Settings
from callboard.core.executors.process_group import set_command_umask
from callboard.core.paths import DaemonPaths, make_private_dir

DAEMON_UMASK = 0o077


def make_daemon_private(settings: Settings, paths: DaemonPaths) -> None:
    """Set the process umask to 0077 (commands keep the one the daemon was started with), create the
    state and log folders 0700, and make the daemon's existing files 0600."""
    set_command_umask(os.umask(DAEMON_UMASK))
    make_private_dir(paths.state_dir)
    make_private_dir(settings.log_dir)
    db = settings.db_path
    candidates = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), paths.lock, paths.pid]
    with contextlib.suppress(OSError):
        candidates.extend(settings.log_dir.iterdir())
    for path in candidates:
        _tighten(path)


def _tighten(path: Path) -> None:
    try:
        info = path.lstat()
    except OSError:
        return
    # Only regular files of this user, and never through a symlink.
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
