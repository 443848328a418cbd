"""Settings: one pydantic-settings class.

Precedence, highest first: values passed in (CLI options) > environment (``CALLBOARD_`` prefix, ``__``
between nested keys, e.g. ``CALLBOARD_STORE__BUSY_TIMEOUT_MS``) > the TOML file > defaults.
The TOML file is the first of: ``--config``, ``$CALLBOARD_CONFIG``, ``./callboard.toml``, and
``<user config dir>/config.toml``.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from callboard.core.models.names import EnvVarName
from callboard.core.notify.settings import NotifySettings
from callboard.core.telephony.settings import TwilioSettings

APP_NAME = "callboard"
ENV_PREFIX = "CALLBOARD_"
ENV_CONFIG = "CALLBOARD_CONFIG"
LOCAL_CONFIG = Path("callboard.toml")
STORE_URL_SCHEMES = ("postgresql://", "postgres://")

_toml_file: ContextVar[Path | None] = ContextVar("callboard_toml_file", default=None)


class ConfigError(Exception):
    """A setting has a wrong value; the message names the key and where it came from."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class StoreSettings(_Section):
    """The store: the SQLite file in the state directory, or a PostgreSQL database (``url``)."""

    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    commit_tick_ms: float = Field(default=5.0, gt=0, le=1000)
    # A secret: a database URL usually carries its password.
    url: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _known_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(STORE_URL_SCHEMES):
            raise ValueError("must start with postgresql:// (leave it out for the SQLite file)")
        return url


class LimitSettings(_Section):
    """A concurrency and/or rate limit; unset means unlimited."""

    concurrency: int | None = Field(default=None, ge=1)
    rate_per_s: float | None = Field(default=None, gt=0)


TestKindName = Literal["http", "conversation", "call", "command", "voice"]


def _default_kind_limits() -> dict[TestKindName, LimitSettings]:
    # Voice sessions run in real time and pace audio every 20 ms: bounded by CPU, not by the agent.
    return {"command": LimitSettings(concurrency=4), "voice": LimitSettings(concurrency=16)}


class EngineSettings(_Section):
    """The worker pool and its limits."""

    concurrency: int = Field(default=64, ge=1, le=4096)
    kinds: dict[TestKindName, LimitSettings] = Field(default_factory=lambda: _default_kind_limits())
    targets: dict[str, LimitSettings] = Field(default_factory=dict)
    retry_base_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    http_connections: int = Field(default=64, ge=1, le=4096)


class ImportSettings(_Section):
    """Limits on suite files, so a huge file is refused instead of exhausting memory."""

    max_tests: int = Field(default=100_000, ge=1)
    max_file_mb: float = Field(default=100.0, gt=0)


class LlmSettings(_Section):
    """The OpenAI-compatible model behind simulated users and judge checks; ``api_key`` is a secret
    (CALLBOARD_LLM__API_KEY), sent only as ``Authorization: Bearer``."""

    base_url: str = Field(default="https://api.openai.com/v1", pattern=r"^https?://[^\s/]+(/\S*)?$")
    model: str = Field(default="gpt-4o-mini", min_length=1, max_length=200)
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    concurrency: int | None = Field(default=8, ge=1, le=4096)
    rate_per_s: float | None = Field(default=None, gt=0)
    batch_max_tokens: int | None = Field(default=2_000_000, ge=1)
    judge_samples: int = Field(default=1, ge=1, le=15)
    seed: int | None = 7
    user_temperature: float = Field(default=0.7, ge=0, le=2)
    user_prompt_file: Path | None = None
    judge_prompt_file: Path | None = None


class VoiceSettings(_Section):
    """Voice tests (Media Streams): the caller's speech (TTS), hearing the agent (VAD), understanding it
    (STT). ``*_url`` is the base of an OpenAI-compatible API (``.../v1``)."""

    tts: Literal["espeak", "openai"] = "espeak"
    tts_voice: str = Field(default="en-us", min_length=1, max_length=100)
    tts_url: str = Field(default="https://api.openai.com/v1", pattern=r"^https?://[^\s/]+(/\S*)?$")
    tts_model: str = Field(default="tts-1", min_length=1)
    tts_api_key: SecretStr | None = None
    stt: Literal["none", "openai", "pocketsphinx"] = "none"
    stt_url: str = Field(default="https://api.openai.com/v1", pattern=r"^https?://[^\s/]+(/\S*)?$")
    stt_model: str = Field(default="whisper-1", min_length=1)
    stt_api_key: SecretStr | None = None
    stt_language: str | None = Field(default="en", max_length=20)
    vad_aggressiveness: int = Field(default=2, ge=0, le=3)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=300)
    provider_timeout_s: float = Field(default=30.0, gt=0, le=600)


class SchedulerSettings(_Section):
    """Scheduled runs: what happens to a slot that came due while the daemon was down."""

    misfire_grace_s: float = Field(default=300.0, ge=0)


class RetentionSettings(_Section):
    """How much history to keep: whole batches older than ``days``, and the oldest batches beyond
    ``max_runs`` runs, are deleted every ``interval_h`` hours (unset: keep everything)."""

    days: float | None = Field(default=None, gt=0)
    max_runs: int | None = Field(default=None, ge=1)
    interval_h: float = Field(default=24.0, gt=0)


class CommandSettings(_Section):
    """Command tests: which of the daemon's environment variables every command gets on purpose
    (besides PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TERM, TZ and TMPDIR)."""

    pass_env: list[EnvVarName] = Field(default_factory=list)


class DaemonSettings(_Section):
    """The daemon: its socket, request limits, event stream and log files."""

    socket_path: Path | None = None
    max_request_kb: int = Field(default=1024, ge=1, le=1024 * 1024)
    keepalive_s: float = Field(default=15.0, gt=0, le=3600)
    start_timeout_s: float = Field(default=20.0, gt=0, le=600)
    log_max_mb: float = Field(default=10.0, gt=0)
    log_backups: int = Field(default=5, ge=0, le=100)
    # On a PostgreSQL store the daemon also executes runs, as a worker in its own process; False (or
    # `callboard daemon --no-worker`) leaves them to `callboard worker`s and only serves the API.
    worker: bool = True
    # The daemon and workers run on uvloop's event loop (less CPU per run); false: asyncio's own.
    uvloop: bool = True


def default_state_dir() -> Path:
    """Where the database, logs and socket live unless moved."""
    return Path(platformdirs.user_state_dir(APP_NAME))


def user_config_file() -> Path:
    """The per-user config file."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


class Settings(BaseSettings):
    """Every setting of callboard; ``config.example.toml`` documents each key."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        # A rejected value may be a secret (a token, a webhook URL): errors never quote it.
        hide_input_in_errors=True,
    )

    state_dir: Path = Field(default_factory=default_state_dir)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    store: StoreSettings = Field(default_factory=StoreSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    commands: CommandSettings = Field(default_factory=CommandSettings)

    @field_validator("state_dir")
    @classmethod
    def _absolute_state_dir(cls, value: Path) -> Path:
        # A relative folder would depend on where each command happens to run, so two shells would
        # talk to two daemons; ``--state-dir`` is made absolute by the CLI before it gets here.
        expanded = value.expanduser()
        if not expanded.is_absolute():
            raise ValueError(f"must be an absolute path (or start with ~), not {str(value)!r}")
        return expanded

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _toml_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.state_dir / "callboard.db"

    @property
    def recordings_dir(self) -> Path:
        """Where voice tests' recordings go (0700; each file 0600)."""
        return self.state_dir / "recordings"

    @property
    def log_dir(self) -> Path:
        """Where log files go."""
        return self.state_dir / "logs"


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The TOML file in force: --config, $CALLBOARD_CONFIG, ./callboard.toml, the user's config."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(ENV_CONFIG):
        return Path(env)
    for candidate in (LOCAL_CONFIG, user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings, raising ConfigError with one message naming key and source."""
    path = find_config_file(config_file)
    if path is not None:
        _check_toml_file(path)
    token = _toml_file.set(path)
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, overrides)) from None
    except SettingsError as exc:
        raise ConfigError(_describe_unparsable(exc)) from None
    finally:
        _toml_file.reset(token)


def _check_toml_file(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _describe(exc: ValidationError, path: Path | None, overrides: dict[str, Any]) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        env_name = _env_source(error["loc"])
        if error["loc"] and error["loc"][0] in overrides and overrides[error["loc"][0]] is not None:
            source = "command-line option"
        elif env_name is not None:
            source = f"environment variable {env_name}"
        elif path is not None:
            source = f"config file {path}"
        else:
            source = "defaults"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"setting '{key}' ({source}): {message}")
    return "; ".join(lines)


def _env_source(loc: tuple[int | str, ...]) -> str | None:
    """The environment variable a value at ``loc`` came from: the variable of the key itself or of a
    key holding it (``CALLBOARD_TWILIO__ALLOWED_NUMBERS`` for ``twilio.allowed_numbers.0``)."""
    present = {name.upper() for name in os.environ}
    for end in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(str(part) for part in loc[:end]).upper()
        if name in present:
            return name
    return None


def _describe_unparsable(exc: SettingsError) -> str:
    # pydantic-settings names only the top-level field; the variables under it that are not JSON are
    # the ones a list or object setting could not read.
    match = re.search(r'field "([^"]+)"', str(exc))
    prefix = ENV_PREFIX + (match.group(1).upper() if match else "")
    suspects = sorted(
        name for name, value in os.environ.items() if name.upper().startswith(prefix) and not _is_json(value)
    )
    where = (
        ", ".join(f"environment variable {name}" for name in suspects) or f"environment variables {prefix}*"
    )
    return (
        f"{where}: not valid JSON; a list or table setting is given as JSON in the environment, "
        """e.g. CALLBOARD_TWILIO__ALLOWED_NUMBERS='["+15555550100"]'"""
    )


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets shown as '**********'."""
    return settings.model_dump(mode="json")
