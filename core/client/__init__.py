"""The one way to talk to the daemon: the CLI uses it now, the TUI and scripts too."""

from callboard.core.client.client import ApiFailure, CallboardClient, DaemonUnavailable
from callboard.core.client.connect import DaemonStartError, connect, start_daemon

__all__ = [
    "ApiFailure",
    "CallboardClient",
    "DaemonStartError",
    "DaemonUnavailable",
    "connect",
    "start_daemon",
]
