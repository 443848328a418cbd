"""Tie a helper process (the demo agent, the telephony simulator) to its owner: when the owner process
ends — stopped, crashed or killed — the helper gets SIGTERM and shuts down as if told to by hand.

Linux's pidfd (``pidfd_open(2)``) makes the watch exact even if the pid is reused later; elsewhere
the owner is polled.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time

_POLL_S = 0.5


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_exit(pid: int) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is None:
        while process_alive(pid):
            time.sleep(_POLL_S)
        return
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.poll()  # readable once the process has ended
    finally:
        os.close(pidfd)


def _watch(pid: int) -> None:
    _wait_for_exit(pid)
    os.kill(os.getpid(), signal.SIGTERM)


def exit_with(pid: int) -> None:
    """Send this process SIGTERM once process ``pid`` has ended (at once if it already has)."""
    if not process_alive(pid):
        os.kill(os.getpid(), signal.SIGTERM)
        return
    with contextlib.suppress(RuntimeError):
        threading.Thread(target=_watch, args=(pid,), name=f"exit-with-{pid}", daemon=True).start()
