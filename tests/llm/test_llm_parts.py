"""The parts on their own: suite validation, settings, prompt templates, wire parsing, key scrubbing,
request pacing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from callboard.core.config import LlmSettings, load_settings, masked
from callboard.core.llm.client import ChatClient
from callboard.core.llm.errors import MalformedOutput
from callboard.core.llm.judge import judge_messages
from callboard.core.llm.pacing import RequestPacer
from callboard.core.llm.prompts import PromptError, load_prompts
from callboard.core.llm.wire import parse_answer
from callboard.core.models import TranscriptEntry
from callboard.core.suites import SuiteError, dump_toml_suite, load_suites
from tests.conftest import EXAMPLES

BOTH = """\
[[test]]
name = "both"
kind = "conversation"
endpoint = { url = "http://127.0.0.1:8700/chat" }
turns = [{ say = "hi" }]
simulate = { persona = "p", goal = "g" }
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    suite = tmp_path / "suite.toml"
    suite.write_text(text)
    with pytest.raises(SuiteError) as caught:
        load_suites([suite])
    return [str(problem) for problem in caught.value.problems]


def test_simulate_and_turns_together_is_a_located_import_error(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, BOTH)
    assert problem.startswith(f"{tmp_path / 'suite.toml'}:1: test 'both': field 'turns'")
    assert problem.endswith("give either scripted turns or simulate, not both")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('turns = [{ say = "hi", expect = [{ judge = "x" }] }]', "put them in the test's checks"),
        ("checks = []", "needs scripted turns or a simulated user"),
        ('simulate = { persona = "p", goal = "g", max_turns = 0 }', "greater than or equal to 1"),
        ('simulate = { persona = "p", goal = "g", mood = "x" }', "field 'simulate.mood': unknown field"),
    ],
)
def test_bad_simulations_and_judges_are_refused(tmp_path: Path, entry: str, message: str) -> None:
    text = f'[[test]]\nname = "t"\nkind = "conversation"\nendpoint = {{ url = "http://h/chat" }}\n{entry}\n'
    (problem,) = _problems(tmp_path, text)
    assert message in problem


def test_a_judge_on_an_http_test_does_not_apply(tmp_path: Path) -> None:
    text = (
        '[[test]]\nname = "t"\nkind = "http"\nrequest = { url = "http://h/" }\nchecks = [{ judge = "x" }]\n'
    )
    (problem,) = _problems(tmp_path, text)
    assert "check 'judge' does not apply to http tests" in problem


def test_the_key_comes_from_the_environment_and_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_LLM__API_KEY", "sk-env-secret-1234")
    monkeypatch.setenv("CALLBOARD_LLM__BASE_URL", "http://127.0.0.1:11434/v1")
    settings = load_settings()
    assert settings.llm.api_key == SecretStr("sk-env-secret-1234")
    assert settings.llm.base_url == "http://127.0.0.1:11434/v1"
    assert "sk-env-secret-1234" not in str(masked(settings))


def test_prompt_templates_can_be_replaced_and_are_checked(tmp_path: Path) -> None:
    judge = tmp_path / "judge.txt"
    judge.write_text("Decide: $criterion ($description) — costs $$0")
    user = tmp_path / "user.txt"
    user.write_text("Be $persona and want $goal.")
    prompts = load_prompts(user, judge)
    transcript = [
        TranscriptEntry(speaker="caller", text="hi"),
        TranscriptEntry(speaker="agent", text="hello"),
    ]
    system, convo = judge_messages(prompts.judge, "was kind", transcript, "a test", timing=False)
    assert system["content"] == "Decide: was kind (a test) — costs $0"
    assert convo["content"] == "Transcript:\ncaller: hi\nagent: hello"
    for text, message in [
        ("$criterion $mood", "unknown placeholder(s) mood"),
        ("no placeholders", "must use $criterion"),
        ("$criterion costs $", "a '$' that starts no placeholder"),
    ]:
        judge.write_text(text)
        with pytest.raises(PromptError, match=re.escape(message)):
            load_prompts(None, judge)
    with pytest.raises(PromptError, match="cannot be read"):
        load_prompts(tmp_path / "missing.txt", None)


def test_answers_are_read_from_content_tool_calls_or_prose() -> None:
    def doc(message: dict[str, object]) -> dict[str, object]:
        return {"choices": [{"message": message}]}

    assert parse_answer(doc({"content": '{"a": 1}'}), "json_schema")[0] == {"a": 1}
    call = {"function": {"name": "f", "arguments": '{"b": 2}'}}
    assert parse_answer(doc({"content": None, "tool_calls": [call]}), "tool")[0] == {"b": 2}
    assert parse_answer(doc({"content": 'Sure:\n```json\n{"c": 3}\n```'}), "json")[0] == {"c": 3}
    for bad in [doc({"content": "no json here"}), doc({"content": "[1, 2]"}), {"choices": []}, doc({})]:
        with pytest.raises(MalformedOutput):
            parse_answer(bad, "json")


def test_the_key_is_scrubbed_from_error_texts() -> None:
    client = ChatClient(LlmSettings(api_key=SecretStr("my-own-secret-value")))
    text = "bad key my-own-secret-value; Incorrect API key provided: sk-proj-abc***wxyz"
    assert client.scrub(text) == "bad key **********; Incorrect API key provided: sk-**********"


async def test_the_pacer_never_lets_more_than_concurrency_requests_through() -> None:
    pacer = RequestPacer(concurrency=2, rate_per_s=None)
    inside = peak = 0

    async def request() -> None:
        nonlocal inside, peak
        async with pacer.slot():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(request() for _ in range(8)))
    assert peak == 2


async def test_the_pacer_spaces_request_starts() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    pacer = RequestPacer(concurrency=None, rate_per_s=10, clock=lambda: 5.0, sleep=sleep)
    for _ in range(3):
        async with pacer.slot():
            pass
    # The clock stands still: the first request goes at once, the next ones 0.1 s apart.
    assert waits == pytest.approx([0.1, 0.2])


def test_simulated_tests_export_and_import_unchanged(tmp_path: Path) -> None:
    tests = load_suites([EXAMPLES / "simulated.toml"])
    exported = tmp_path / "exported.toml"
    exported.write_text(dump_toml_suite(tests))
    assert load_suites([exported]) == tests
    assert 'judge = "The agent confirmed a day and a time for the appointment"' in exported.read_text()
