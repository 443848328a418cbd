"""What every command shares: the settings (loaded once, on first use) and error reporting."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from callboard.core.config import Settings

EXIT_FAILURE = 1
EXIT_USAGE = 2


@dataclass
class CliContext:
    """Options of the top-level group, and the settings they lead to."""

    config_file: Path | None
    state_dir: Path | None
    autostart: bool = True
    _settings: Settings | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        """The effective settings; a wrong value ends the command with exit status 2."""
        if self._settings is None:
            from callboard.core.config import ConfigError, load_settings

            try:
                state_dir = self.state_dir.absolute() if self.state_dir is not None else None
                settings = load_settings(self.config_file, state_dir=state_dir)
            except ConfigError as exc:
                fail(f"config error: {exc}", code=EXIT_USAGE)
            _check_state_dir(settings.state_dir)
            self._settings = settings
        return self._settings

    def reset_settings(self) -> None:
        """Read the settings again on next use (after the environment or the state dir changed)."""
        self._settings = None

    def daemon_args(self) -> list[str]:
        """The options a daemon started from here needs to find the same settings and state."""
        args: list[str] = []
        if self.config_file is not None:
            args += ["--config", str(self.config_file.absolute())]
        if self.state_dir is not None:
            args += ["--state-dir", str(self.state_dir.absolute())]
        return args


def _check_state_dir(state_dir: Path) -> None:
    """Make the state dir (0700) if needed; one line naming it, exit 2, when it cannot be used."""
    if state_dir.exists() and not state_dir.is_dir():
        fail(f"state dir {state_dir}: cannot use it: it is a file, not a folder", code=EXIT_USAGE)
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        usable = os.access(state_dir, os.R_OK | os.W_OK | os.X_OK)
        reason = "" if usable else "not writable"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    if reason:
        fail(f"state dir {state_dir}: cannot use it: {reason}", code=EXIT_USAGE)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print an error to stderr and exit."""
    click.echo(f"callboard: {message}", err=True)
    sys.exit(code)


pass_cli = click.make_pass_decorator(CliContext)
