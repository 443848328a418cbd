"""Errors the store raises, and the translation of SQLite's lock errors into them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SQLITE_BUSY = 5


class StoreError(Exception):
    """Anything the store refuses or cannot do."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer callboard; this one must not touch it."""

    def __init__(self, path: Path, version: int, newest: int) -> None:
        super().__init__(
            f"database {path} has schema version {version}, but this callboard knows versions up to "
            f"{newest}; upgrade callboard to open it"
        )
        self.path = path
        self.version = version
        self.newest = newest


class StoreLockedError(StoreError):
    """A write waited longer than the busy timeout for another connection's lock."""

    def __init__(self, path: Path, busy_timeout_ms: int) -> None:
        super().__init__(
            f"database {path} is locked by another process (waited {busy_timeout_ms / 1000:.1f} s)"
        )
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms


def is_locked(exc: BaseException) -> bool:
    """True when ``exc`` is SQLite giving up on a lock ("database is locked" / "database is busy")."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    # The primary result code lives in the low byte; extended codes such as SQLITE_BUSY_SNAPSHOT share it.
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF == _SQLITE_BUSY:
        return True
    message = str(exc)
    return "database is locked" in message or "database is busy" in message


def translate(exc: BaseException, path: Path, busy_timeout_ms: int) -> BaseException:
    """The error to raise in place of ``exc``: StoreLockedError for lock errors, ``exc`` otherwise."""
    if not is_locked(exc):
        return exc
    error = StoreLockedError(path, busy_timeout_ms)
    error.__cause__ = exc
    return error


@contextmanager
def locked_as_store_error(path: Path, busy_timeout_ms: int) -> Iterator[None]:
    """Re-raise SQLite lock errors inside the block as StoreLockedError."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if is_locked(exc):
            raise StoreLockedError(path, busy_timeout_ms) from exc
        raise


class NameTakenError(ValueError):
    """Two tests, or two schedules, cannot share a name."""
