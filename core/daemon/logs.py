"""The daemon's logging: a rotating file in the state directory, and stderr in the foreground."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler

from callboard.core.config import Settings
from callboard.core.paths import DaemonPaths, make_private_dir
from callboard.core.redaction import RedactingFilter, Redactor, secret_values

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFilter(logging.Filter):
    """Writes line breaks inside a message as \\n, so text from a request (a name, a field) can never
    forge a line of the log; tracebacks keep their lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\n" in message or "\r" in message:
            record.msg = message.replace("\r", "\\r").replace("\n", "\\n")
            record.args = None
        return True


def configure_logging(settings: Settings, paths: DaemonPaths, *, to_stderr: bool) -> None:
    """Send the root logger to the log file (and stderr when ``to_stderr``)."""
    make_private_dir(paths.log.parent)
    formatter = logging.Formatter(_FORMAT)
    handlers: list[logging.Handler] = [
        RotatingFileHandler(
            paths.log,
            maxBytes=int(settings.daemon.log_max_mb * 1024 * 1024),
            backupCount=settings.daemon.log_backups,
            encoding="utf-8",
        )
    ]
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    redacting = RedactingFilter(Redactor(secret_values(settings)))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redacting)
        handler.addFilter(OneLineFilter())
        root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Per-request lines are noise at info level; they show with log_level = "debug".
    logging.getLogger("uvicorn.access").setLevel(
        logging.DEBUG if settings.log_level == "debug" else logging.WARNING
    )
