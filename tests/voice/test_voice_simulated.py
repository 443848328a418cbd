"""A voice test whose caller is a simulated user: the model's lines are spoken through TTS, the agent is
heard through STT, and judges read the timed transcript — through the whole daemon against the
simulator's Media Streams agent, transcription endpoint and scripted model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from callboard.core.models import parse_test
from callboard.core.simulator import simulator_process
from callboard.core.simulator.scripted_model import SCRIPTED_MODEL, SCRIPTED_MODEL_KEY
from tests.api.conftest import start_daemon_process, wait_batch
from tests.voice.support import ws_url

SIMULATE = {
    "persona": "A busy parent who answers in few words",
    "goal": "Book a cleaning for Tuesday afternoon",
    "max_turns": 6,
}


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with simulator_process() as url:
        yield url


def test_a_simulated_caller_books_by_voice_and_a_judge_reads_the_timed_transcript(
    tmp_path: Path, sim_url: str
) -> None:
    daemon = start_daemon_process(
        tmp_path / "state",
        VOICE__STT="openai",
        VOICE__STT_URL=sim_url + "/v1",
        LLM__BASE_URL=sim_url + "/v1",
        LLM__MODEL=SCRIPTED_MODEL,
        LLM__API_KEY=SCRIPTED_MODEL_KEY,
    )
    test = {
        "name": "books-by-voice-simulated",
        "kind": "voice",
        "endpoint": {"url": ws_url(sim_url)},
        "simulate": SIMULATE,
        "checks": [
            {"judge": "The agent confirmed a day and a time for the appointment"},
            {"agent_says": "(?i)booked", "regex": True},
        ],
    }
    try:
        with daemon.http() as http:
            assert http.post("/v1/tests/import", json={"tests": [test]}).status_code == 200
            batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
            batch = wait_batch(http, batch_id, timeout_s=120)
            [run] = http.get("/v1/runs").json()["runs"]
            run = http.get(f"/v1/runs/{run['id']}").json()
    finally:
        daemon.stop()
    assert batch["counts"]["passed"] == 1, run
    caller_lines = [entry["text"] for entry in run["transcript"] if entry["speaker"] == "caller"]
    agent_lines = [entry["text"] for entry in run["transcript"] if entry["speaker"] == "agent"]
    assert len(caller_lines) >= 2 and all(caller_lines), run["transcript"]
    assert any("booked" in line.lower() for line in agent_lines), agent_lines
    assert run["artifacts"]["simulate.status"] == "goal_done"
    judge = next(check for check in run["checks"] if check["name"].startswith("judge="))
    assert judge["passed"] and "booked" in judge["message"]
    # The judge was shown each line's time, as it is for calls.
    assert "s] agent: " in run["artifacts"]["judge.1.prompt"]
    assert run["metrics"]["llm_prompt_tokens"] > 0 and "turn_latency_ms.1" in run["metrics"]


def test_a_voice_test_is_scripted_or_simulated_not_both() -> None:
    base = {"name": "v", "kind": "voice", "endpoint": {"url": "ws://127.0.0.1:9/media"}}
    with pytest.raises(ValidationError, match="not both"):
        parse_test({**base, "simulate": SIMULATE, "caller": [{"wait": "agent"}]})
    with pytest.raises(ValidationError, match="caller steps or a simulated user"):
        parse_test(base)
    assert parse_test({**base, "simulate": SIMULATE}).simulate is not None
