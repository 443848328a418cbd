"""Settings of the notifications sent when a batch finishes (embedded in the main settings as ``notify``)."""

from __future__ import annotations

import shlex
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

When = Literal["always", "failure", "drop"]
"""always: every batch; failure: a batch with failed or error runs; drop: a pass rate below the previous
batch of the same schedule."""

Address = Annotated[str, Field(pattern=r"^[^\s@]+@[^\s@]+$")]


class _Section(BaseModel):
    # Hidden input: a rejected value may be a webhook URL holding a token, and errors get printed and logged.
    model_config = ConfigDict(extra="forbid", validate_default=True, hide_input_in_errors=True)


class WebhookSettings(_Section):
    """An HTTP endpoint the summary is POSTed to: as JSON, or as a Slack-compatible ``{"text": ...}``."""

    url: SecretStr
    format: Literal["json", "slack"] = "json"
    when: When | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @property
    def host(self) -> str:
        """The URL's host alone, safe to show: the path and query may hold a token."""
        return urlsplit(self.url.get_secret_value()).hostname or "?"


class EmailSettings(_Section):
    """A plain-text email over SMTP, with STARTTLS and login when configured."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    verify_tls: bool = True
    ca_file: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    from_addr: Address
    to: list[Address] = Field(min_length=1)
    when: When | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _credentials(self) -> EmailSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        # Without STARTTLS the password would cross the network in clear text.
        if self.username is not None and not self.starttls:
            raise ValueError("username/password need starttls = true")
        return self


class CommandHookSettings(_Section):
    """A program run with the summary in ``CALLBOARD_*`` environment variables; split like a shell would,
    but run without one."""

    command: str = Field(min_length=1)
    timeout_s: float = Field(default=30.0, gt=0, le=3600)
    when: When | None = None

    @field_validator("command")
    @classmethod
    def _splits(cls, value: str) -> str:
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot be split into arguments: {exc}") from None
        if not argv:
            raise ValueError("names no program")
        return value

    @property
    def argv(self) -> list[str]:
        """The program and its arguments."""
        return shlex.split(self.command)


class NotifySettings(_Section):
    """Where to announce finished batches, when, and how hard to retry a failed delivery."""

    when: When = "failure"
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    email: EmailSettings | None = None
    commands: list[CommandHookSettings] = Field(default_factory=list)
    retries: int = Field(default=4, ge=0, le=20)
    retry_base_s: float = Field(default=1.0, gt=0)
    retry_max_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _retry_bounds(self) -> NotifySettings:
        if self.retry_max_s < self.retry_base_s:
            raise ValueError("retry_max_s must be at least retry_base_s")
        return self
