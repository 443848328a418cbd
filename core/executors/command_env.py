"""The environment a command test runs in: a clean one, never the daemon's own.

The daemon's environment holds its ``CALLBOARD_*`` settings (a Twilio auth token, an SMTP password) and
whatever else the shell that started it had. A command gets only a few harmless basics (``BASE_NAMES``,
plus ``LC_*``), the variables named in ``commands.pass_env`` and in the test's own ``pass_env``, and
the test's ``env``. No ``CALLBOARD_*`` variable and no value equal to a known secret is ever passed on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping

log = logging.getLogger(__name__)

BASE_NAMES = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ", "TMPDIR")
RESERVED_PREFIX = "CALLBOARD_"


class CommandEnvironment:
    """Builds each command's environment from the daemon's, keeping only what is allowed."""

    def __init__(
        self,
        pass_env: Iterable[str] = (),
        secrets: Iterable[str] = (),
        source: Mapping[str, str] | None = None,
    ) -> None:
        self._pass = tuple(pass_env)
        self._secrets = frozenset(secrets)
        self._source = os.environ if source is None else source

    def build(self, test_env: Mapping[str, str], test_pass_env: Iterable[str] = ()) -> dict[str, str]:
        """The environment for one command: basics, passed-through names, then the test's ``env``."""
        wanted = {*BASE_NAMES, *self._pass, *test_pass_env}
        env = {
            name: value
            for name, value in self._source.items()
            if (name in wanted or name.startswith("LC_")) and self._allowed(name, value)
        }
        env.update(test_env)  # the suite author's own values, set on purpose
        return env

    def _allowed(self, name: str, value: str) -> bool:
        if name.startswith(RESERVED_PREFIX):
            return False
        if value in self._secrets:
            log.warning("%s is not passed to commands: its value is a secret of callboard's settings", name)
            return False
        return True
