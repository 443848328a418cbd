"""The ``voice`` test kind: what a suite may say, and the located errors for what it may not."""

from __future__ import annotations

from pathlib import Path

import pytest

from callboard.core.config import ConfigError, load_settings, masked
from callboard.core.engine.selection import limit_keys
from callboard.core.models import VoiceTest, dump_test, parse_test
from callboard.core.suites import SuiteError, load_suites

VOICE = """
[[test]]
name = "books-cleaning-voice"
kind = "voice"
endpoint = { url = "ws://127.0.0.1:8765/media", protocol = "twilio", custom_parameters = { tenant = "demo" } }
caller = [
  { wait = "agent" },
  { say = "I'd like to book a cleaning" },
  { wait = "agent", expect = [{ agent_says = "(?i)which day|when", regex = true }] },
  { wait = "speech" }, { pause = 0.8 }, { say = "Sorry, Tuesday at 3pm", voice = "en-gb" },
  { wait = "agent", silence_ms = 900, timeout_s = 20 }, { digits = "1" }, { hangup = true },
]
checks = [
  { first_word_ms_below = 1500 }, { turn_latency_p90_ms_below = 1200 }, { barge_in_stop_ms_below = 600 },
  { agent_says = "(?i)booked", regex = true }, { talk_over_count_max = 0 }, { late_answer_count_max = 0 },
  { duration_s_below = 60 },
]
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "voice.toml"
    path.write_text(text)
    with pytest.raises(SuiteError) as info:
        load_suites([path])
    return [str(problem).split(": ", 1)[1] for problem in info.value.problems]


def test_the_issue_example_parses_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "voice.toml"
    path.write_text(VOICE)
    [test] = load_suites([path])
    assert isinstance(test, VoiceTest)
    assert test.target() == "ws://127.0.0.1:8765/media"
    assert test.endpoint.custom_parameters == {"tenant": "demo"}
    assert [step.action for step in test.caller] == [
        "wait", "say", "wait", "wait", "pause", "say", "wait", "digits", "hangup",
    ]  # fmt: skip
    assert test.caller[6].silence_ms == 900 and test.silence_ms == 700
    assert len(test.all_checks()) == 8
    assert parse_test(dump_test(test)) == test


@pytest.mark.parametrize(
    ("fragment", "field", "message"),
    [
        ('endpoint = { url = "http://x/media" }', "endpoint.url", "is not a WebSocket URL"),
        (
            'endpoint = { url = "ws://x/m", protocol = "vonage" }',
            "endpoint.protocol",
            "Input should be 'twilio'",
        ),
        ('caller = [{ wait = "forever" }]', "caller[0].wait", "Input should be 'agent' or 'speech'"),
        ('caller = [{ say = "hi", pause = 1 }]', "caller[0]", "exactly one of say, play, digits"),
        ('caller = [{ digits = "12x" }]', "caller[0].digits", "String should match pattern"),
        ("caller = [{ pause = 1, silence_ms = 500 }]", "caller[0]", "silence_ms and timeout_s go with wait"),
        ('caller = [{ say = "hi", expect = [{ agent_says = "x" }] }]', "caller[0]", "expect goes with wait"),
        ("caller = []", "caller", "caller steps or a simulated user"),
    ],
)
def test_bad_voice_tests_are_located(tmp_path: Path, fragment: str, field: str, message: str) -> None:
    lines = {
        "endpoint": 'endpoint = { url = "ws://127.0.0.1:1/media" }',
        "caller": 'caller = [{ wait = "agent" }]',
    }
    lines[fragment.split(" ")[0]] = fragment
    text = '[[test]]\nname = "v"\nkind = "voice"\n' + "\n".join(lines.values()) + "\n"
    [problem] = _problems(tmp_path, text)
    assert problem.startswith(f"test 'v': field '{field}': ")
    assert message in problem


def test_voice_only_checks_are_refused_elsewhere(tmp_path: Path) -> None:
    text = '[[test]]\nname = "c"\nkind = "call"\nphone = "+15555550100"\n'
    text += "checks = [{ barge_in_stop_ms_below = 500 }]\n"
    [problem] = _problems(tmp_path, text)
    assert "does not apply to call tests (only to voice)" in problem


def test_voice_runs_count_against_their_kind_and_their_agents_host() -> None:
    plain = parse_test({"name": "a", "kind": "voice", "endpoint": {"url": "ws://Agent.example:8765/ws"},
                        "caller": [{"wait": "agent"}]})  # fmt: skip
    secure = parse_test({"name": "b", "kind": "voice", "endpoint": {"url": "wss://agent.example/media"},
                         "caller": [{"wait": "agent"}]})  # fmt: skip
    assert limit_keys(plain) == ("kind:voice", "host:agent.example:8765")
    assert limit_keys(secure) == ("kind:voice", "host:agent.example:443")


def test_voice_settings_are_validated_and_keys_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_VOICE__STT", "whisper-local")
    with pytest.raises(
        ConfigError, match=r"setting 'voice.stt' \(environment variable CALLBOARD_VOICE__STT\)"
    ):
        load_settings()
    monkeypatch.setenv("CALLBOARD_VOICE__STT", "openai")
    monkeypatch.setenv("CALLBOARD_VOICE__STT_API_KEY", "sk-very-secret")
    settings = load_settings()
    assert settings.voice.stt_api_key is not None
    assert settings.voice.stt_api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in str(masked(settings))
    assert settings.engine.kinds["voice"].concurrency == 16
