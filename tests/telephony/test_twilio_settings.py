"""The [twilio] settings the call executor reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from callboard.core.config import ConfigError, TwilioSettings, load_settings


def test_defaults_point_at_twilio() -> None:
    settings = TwilioSettings()
    assert settings.api_base_url == "https://api.twilio.com"
    assert settings.intelligence_base_url == "https://intelligence.twilio.com"
    assert settings.intelligence_service_sid is None
    assert (settings.caller_channel, settings.agent_channel) == (1, 2)
    assert settings.poll_initial_s <= settings.poll_max_s
    assert (settings.default_time_limit_s, settings.ring_timeout_s) == (600, 30)


@pytest.mark.parametrize(
    "values",
    [
        {"caller_channel": 2, "agent_channel": 2},
        {"poll_initial_s": 5.0, "poll_max_s": 1.0},
        {"intelligence_service_sid": "GT" + "0" * 32},
        {"api_base_url": "ftp://example.com"},
        {"ring_timeout_s": 1},
        {"caller_channel": 3},
    ],
)
def test_nonsense_is_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TwilioSettings.model_validate(values)


def test_file_and_environment_set_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "callboard.toml"
    config.write_text(
        '[twilio]\napi_base_url = "http://127.0.0.1:8710"\nintelligence_service_sid = "GA' + "a" * 32 + '"\n'
    )
    monkeypatch.setenv("CALLBOARD_TWILIO__POLL_MAX_S", "2.5")
    settings = load_settings(config).twilio
    assert settings.api_base_url == "http://127.0.0.1:8710"
    assert settings.intelligence_service_sid == "GA" + "a" * 32
    assert settings.poll_max_s == 2.5


def test_errors_name_the_key(tmp_path: Path) -> None:
    config = tmp_path / "callboard.toml"
    config.write_text("[twilio]\ncaller_channel = 2\nagent_channel = 2\n")
    with pytest.raises(ConfigError, match=r"setting 'twilio'.*caller_channel and agent_channel must differ"):
        load_settings(config)
