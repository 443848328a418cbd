"""Bind the daemon's Unix socket safely: a 0700 folder of our own, the socket 0600 before it listens,
and a leftover socket from a dead daemon detected by trying to connect to it."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

from callboard.core.daemon.lock import AlreadyRunning
from callboard.core.paths import MAX_SOCKET_PATH, is_private_dir, make_private_dir, socket_answers

_BACKLOG = 1024


class SocketError(Exception):
    """The socket cannot be bound safely."""


def _private_dir(folder: Path) -> None:
    # A folder callboard did not create is never chmod-ed: one that is not private already is refused.
    try:
        make_private_dir(folder)
        info = folder.lstat()
    except OSError as exc:
        raise SocketError(f"cannot make the socket's folder {folder}: {exc.strerror}") from None
    if not is_private_dir(info):
        raise SocketError(
            f"{folder} is not a folder of this user that only it can enter (0700); refusing to put the "
            "socket there"
        )


@dataclass
class BoundSocket:
    """The listening socket and the file it is bound to."""

    sock: socket.socket
    path: Path
    inode: int

    def remove(self) -> None:
        """Close the socket and remove its file, unless another daemon has bound that path since."""
        self.sock.close()
        with contextlib.suppress(OSError):
            if self.path.lstat().st_ino == self.inode:
                self.path.unlink()


def bind_socket(path: Path) -> BoundSocket:
    """A listening socket at ``path``, mode 0600 in a 0700 folder; removes a stale one first.

    Raises AlreadyRunning when a live daemon answers there, SocketError when it cannot be made safe.
    """
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise SocketError(
            f"cannot bind {path}: the path is {len(os.fsencode(path))} bytes, longer than a Unix socket "
            f"address allows ({MAX_SOCKET_PATH}); set daemon.socket_path to a shorter one"
        )
    _private_dir(path.parent)
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise SocketError(f"{path} exists and is not a socket; remove it or set daemon.socket_path")
        if socket_answers(path):
            raise AlreadyRunning(f"a daemon already answers on {path}")
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # The umask makes the socket 0600 from the moment it exists; the chmod states it explicitly.
    old_umask = os.umask(0o177)
    try:
        sock.bind(os.fspath(path))
    except OSError as exc:
        sock.close()
        raise SocketError(f"cannot bind {path}: {exc.strerror or exc}") from None
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(_BACKLOG)
    sock.setblocking(False)  # noqa: FBT003 (the socket module's positional flag)
    return BoundSocket(sock, path, path.lstat().st_ino)
