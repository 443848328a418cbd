"""Command process groups that never outlive the daemon.

Two lines of defence against a command left running after ``kill -9`` of the daemon (it would run a
second time beside its re-execution):

1. The group leader is a small shell that asks the kernel for a signal when the daemon dies
   (``PR_SET_PDEATHSIG``) and answers it by killing its whole group.
2. The group is recorded with the run (``pgid:<pgid>:<start time>:<boot id>``); at recovery every
   process still in a recorded group is killed. The start time and boot id make sure a process group id
   reused by something else since then is never touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "pgid:"
_PR_SET_PDEATHSIG = 1
# The leader traps the death signal and kills its group (itself included); the command runs as its
# child, so its exit status is the leader's. SIGUSR1 is otherwise unused, and a SIGTERM sent to the
# group at cancellation still reaches the command first so test runners can clean up.
DEATH_SIGNAL = signal.SIGUSR1
LEADER_SCRIPT = 'trap "kill -KILL 0" USR1; /bin/sh -c "$1" & wait $!'
_PROC = Path("/proc")
# The umask commands run with: the one the daemon was started with, not its own private 0077, so the
# files a test suite writes (reports, screenshots) are as its user expects. None: leave it as it is.
_command_umask: int | None = None


def set_command_umask(umask: int) -> None:
    """Run every later command with ``umask`` (the daemon calls it before making its own private)."""
    global _command_umask
    _command_umask = umask


def leader_argv(command: str) -> tuple[str, ...]:
    """The argv that runs ``command`` under the group leader."""
    return ("/bin/sh", "-c", LEADER_SCRIPT, "callboard-command", command)


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get ``DEATH_SIGNAL`` when this process dies (Linux only),
    with the command umask."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    umask = _command_umask

    def preexec() -> None:
        if umask is not None:
            os.umask(umask)
        libc.prctl(_PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0)
        if os.getppid() != parent:  # the daemon died before the request took hold
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def group_record(pgid: int) -> str | None:
    """What to store about the group led by ``pgid`` (None where /proc cannot tell)."""
    started = _start_time(pgid)
    boot = _boot_id()
    if started is None or boot is None:
        return None
    return f"{PREFIX}{pgid}:{started}:{boot}"


def kill_recorded_group(record: str) -> int:
    """Kill every process still in the group ``record`` describes; returns how many were signalled.

    Only processes of the same boot that started no earlier than the recorded leader are touched, so
    a group id reused since then is left alone."""
    parts = record.removeprefix(PREFIX).split(":")
    if not record.startswith(PREFIX) or len(parts) != 3 or parts[2] != _boot_id():
        return 0
    try:
        pgid, leader_started = int(parts[0]), int(parts[1])
    except ValueError:
        return 0
    killed = 0
    for pid, group, started in _processes():
        if group == pgid and started >= leader_started and pid != os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def _processes() -> list[tuple[int, int, int]]:
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat_fields(int(entry.name))
            if stat is not None:
                found.append((int(entry.name), int(stat[2]), int(stat[19])))
    return found


def _start_time(pid: int) -> int | None:
    stat = _stat_fields(pid)
    return None if stat is None else int(stat[19])


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state is [0], pgrp [2], starttime [19])."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _boot_id() -> str | None:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
