"""Settings precedence, errors naming key and source, and the example file that cannot rot."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from callboard.core.config import ConfigError, Settings, load_settings, masked
from tests.conftest import REPO


def test_precedence_init_over_env_over_file_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("log_level = 'warning'\n[store]\nbusy_timeout_ms = 111\ncommit_tick_ms = 7\n")
    settings = load_settings(config)
    assert (settings.log_level, settings.store.busy_timeout_ms, settings.store.commit_tick_ms) == (
        "warning",
        111,
        7,
    )
    monkeypatch.setenv("CALLBOARD_STORE__BUSY_TIMEOUT_MS", "222")
    settings = load_settings(config)
    assert settings.store.busy_timeout_ms == 222 and settings.store.commit_tick_ms == 7
    settings = load_settings(config, state_dir=tmp_path / "elsewhere")
    assert settings.db_path == tmp_path / "elsewhere" / "callboard.db"


def test_config_file_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "xdg-config" / "callboard" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("log_level = 'error'\n")
    assert load_settings().log_level == "error"
    Path("callboard.toml").write_text("log_level = 'debug'\n")
    assert load_settings().log_level == "debug"
    env_file = tmp_path / "env.toml"
    env_file.write_text("log_level = 'warning'\n")
    monkeypatch.setenv("CALLBOARD_CONFIG", str(env_file))
    assert load_settings().log_level == "warning"


def test_state_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_STATE_DIR", str(tmp_path / "s"))
    assert load_settings().state_dir == tmp_path / "s"


def test_wrong_value_names_key_and_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[store]\nbusy_timeout_ms = 'soon'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert "store.busy_timeout_ms" in str(info.value) and str(config) in str(info.value)


def test_unknown_key_and_bad_toml_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[store]\nbusy_timeout = 5\n")
    with pytest.raises(ConfigError, match=r"store\.busy_timeout.*unknown setting"):
        load_settings(config)
    config.write_text("[store\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_wrong_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError, match="environment variable CALLBOARD_LOG_LEVEL"):
        load_settings()


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_TWILIO__AUTH_TOKEN", "s3cr3t-token")
    settings = load_settings()
    assert settings.twilio.auth_token is not None
    assert settings.twilio.auth_token.get_secret_value() == "s3cr3t-token"
    assert "s3cr3t-token" not in str(masked(settings)) and "s3cr3t-token" not in repr(settings)


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def test_example_config_loads_and_documents_every_key() -> None:
    example = REPO / "config.example.toml"
    load_settings(example)
    tomllib.loads(example.read_text())
    documented: set[str] = set()
    section = ""
    lines = example.read_text().splitlines()
    for index, line in enumerate(lines):
        if header := re.match(r"^#?\s?\[([^\]]+)\]", line):
            parts = header.group(1).split(".")
            # A table such as [engine.kinds.command] documents the dict-valued key engine.kinds.
            documented.add(".".join(parts[:2]))
            section = header.group(1) + "."
        elif key := re.match(r"^#?\s?(\w+) = ", line):
            # Each key has a comment above it, or above the block of keys it belongs to.
            above = index - 1
            while re.match(r"^\w+ = ", lines[above]):
                above -= 1
            if lines[above].startswith("["):  # keys of a documented sub-table
                above -= 1
            assert lines[above].startswith("#"), f"{key.group(1)} has no comment"
            documented.add(section + key.group(1))
    assert _keys(Settings) <= documented, _keys(Settings) - documented
