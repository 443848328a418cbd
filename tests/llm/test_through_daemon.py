"""Simulated users and judges through the whole daemon: results shown by show / JUnit / HTML, the key
nowhere in the state dir, one model error per batch, and the batch token budget."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callboard.core.client import CallboardClient
from callboard.core.demo.process import demo_agent_process
from callboard.core.models.api import BatchRequest
from callboard.core.models.events import BatchFinished, BatchProgress
from callboard.core.simulator.scripted_model import SCRIPTED_MODEL, SCRIPTED_MODEL_KEY
from callboard.tui.widgets.batch_panel import BatchLine
from tests.api.conftest import DaemonProcess, start_daemon_process, wait_batch


@pytest.fixture(scope="module")
def agent() -> Iterator[str]:
    """The demo agent in its own process."""
    with demo_agent_process() as url:
        yield url


def llm_env(sim_url: str, **extra: str) -> dict[str, str]:
    """Daemon settings on the scripted model (the key through the environment, as documented)."""
    model = {
        "LLM__BASE_URL": f"{sim_url}/v1",
        "LLM__MODEL": SCRIPTED_MODEL,
        "LLM__API_KEY": SCRIPTED_MODEL_KEY,
    }
    return {**model, "LOG_LEVEL": "debug", **extra}


def simulated(name: str, agent: str, goal: str, criterion: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "conversation",
        "endpoint": {"url": f"{agent}/chat"},
        "simulate": {"persona": "A busy parent who answers in few words", "goal": goal, "max_turns": 6},
        "checks": [{"judge": criterion}],
    }


def run_batch(
    daemon: DaemonProcess, tests: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"tests": tests}).status_code == 200
        batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        batch = wait_batch(http, batch_id, timeout_s=60)
        runs = [http.get(f"/v1/runs/{run['id']}").json() for run in http.get("/v1/runs").json()["runs"]]
        # The model is a limited target of the engine, at [llm].concurrency runs.
        assert http.get("/v1/queue").json()["limits"]["llm"]["limit"] == int(
            daemon.env.get("CALLBOARD_LLM__CONCURRENCY", "8")
        )
    return batch, sorted(runs, key=lambda run: run["test_name"])


def cli(daemon: DaemonProcess, *args: str) -> str:
    env = {**daemon.env, "COLUMNS": "400"}  # no wrapping in the tables
    command = [sys.executable, "-m", "callboard.core", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_verdicts_are_shown_everywhere_and_the_key_is_nowhere(
    tmp_path: Path, sim_url: str, agent: str
) -> None:
    state = tmp_path / "state"
    daemon = start_daemon_process(state, **llm_env(sim_url))
    try:
        batch, (books, hours) = run_batch(daemon, [
            simulated("books", agent, "Book a cleaning for Tuesday afternoon",
                      "The agent confirmed a day and a time for the appointment"),
            simulated("hours", agent, "Find out if you are open on Sunday",
                      "The agent confirmed a day and a time for the appointment"),
        ])  # fmt: skip
        assert batch["counts"]["passed"] == 1 and batch["counts"]["failed"] == 1
        assert books["status"] == "passed" and books["metrics"]["llm_prompt_tokens"] > 0
        assert [entry["speaker"] for entry in books["transcript"]] == ["caller", "agent"] * 2
        reason = "keyword rule (day and time confirmed): no agent line confirms both a day and a time"
        assert hours["status"] == "failed" and hours["checks"][0]["message"] == reason
        assert "Criterion: The agent confirmed" in hours["artifacts"]["judge.1.prompt"]
        assert reason in cli(daemon, "show", str(hours["id"]))
        assert reason in cli(daemon, "export", "--batch", str(batch["id"]), "--format", "junit", "-o", "-")
        cli(daemon, "report", str(batch["id"]), "--html", str(tmp_path / "report.html"))
        html = (tmp_path / "report.html").read_text()
        assert reason in html and 'id="llm-tokens"' in html
        report = json.loads(cli(daemon, "report", str(batch["id"]), "--json"))
        spent = books["metrics"]["llm_prompt_tokens"] + hours["metrics"]["llm_prompt_tokens"]
        assert report["llm_prompt_tokens"] == spent > 0 and report["llm_completion_tokens"] > 0
        assert "model tokens" in cli(daemon, "report", str(batch["id"]))
    finally:
        daemon.stop()
    key = SCRIPTED_MODEL_KEY.encode()
    leaks = [path for path in state.rglob("*") if path.is_file() and key in path.read_bytes()]
    assert leaks == []


def test_a_wrong_key_is_one_error_and_the_rest_of_the_batch_is_skipped(
    tmp_path: Path, sim_url: str, agent: str
) -> None:
    # Four runs talk to the model at once: the ones that meet the refusal after the first are skipped too.
    env = llm_env(sim_url, LLM__API_KEY="sk-wrong-0000000000000000", LLM__CONCURRENCY="4")
    daemon = start_daemon_process(tmp_path / "state", **env)
    try:
        tests = [simulated(f"t{i}", agent, "Book a cleaning", "The agent was polite") for i in range(4)]
        batch, runs = run_batch(daemon, tests)
    finally:
        daemon.stop()
    assert batch["counts"]["error"] == 1 and batch["counts"]["skipped"] == 3
    (failed,) = [run for run in runs if run["status"] == "error"]
    assert failed["error_kind"] == "llm_auth" and "refused the API key (401)" in failed["error_message"]
    assert "sk-wrong" not in failed["error_message"]
    skipped = [run for run in runs if run["status"] == "skipped"]
    assert all(f"the model cannot be used (run {failed['id']})" in run["skip_reason"] for run in skipped)


def test_the_batch_token_budget_skips_the_rest_with_the_reason(
    tmp_path: Path, sim_url: str, agent: str
) -> None:
    env = llm_env(sim_url, LLM__BATCH_MAX_TOKENS="1", LLM__CONCURRENCY="1")
    daemon = start_daemon_process(tmp_path / "state", **env)
    try:
        tests = [simulated(f"t{i}", agent, "Book a cleaning", "The agent was polite") for i in range(3)]
        tests.append({"name": "plain", "kind": "http", "request": {"url": f"{agent}/health"}})
        batch, runs = run_batch(daemon, tests)
    finally:
        daemon.stop()
    # The first model run spends the budget; the plain HTTP test is not affected.
    statuses = {run["test_name"]: run["status"] for run in runs}
    assert batch["counts"]["skipped"] == 2 and statuses["plain"] == "passed"
    assert statuses["t0"] in ("passed", "failed")
    reasons = {run["skip_reason"] for run in runs if run["status"] == "skipped"}
    assert reasons == {"batch budget reached: 1 model tokens (llm.batch_max_tokens)"}


async def test_the_batch_progress_counts_the_model_tokens_the_tui_shows(
    tmp_path: Path, sim_url: str, agent: str
) -> None:
    daemon = start_daemon_process(tmp_path / "state", **llm_env(sim_url))
    tests = [simulated(f"t{i}", agent, "Book a cleaning", "The agent was polite") for i in range(2)]
    try:
        async with CallboardClient(daemon.paths.socket) as client:
            await client.import_tests(tests=tests)
            after = (await client.queue()).last_event_id
            created = await client.create_batch(BatchRequest(all=True))
            last: BatchProgress | None = None
            stream = client.events(
                last_id=after, types=("batch.progress", "batch.finished"), batch_id=created.batch.id
            )
            async for event in stream:
                if isinstance(event, BatchProgress):
                    last = event
                elif isinstance(event, BatchFinished):
                    break
            report = await client.batch_report(created.batch.id)
    finally:
        daemon.stop()
    spent = report.llm_prompt_tokens + report.llm_completion_tokens
    assert last is not None and last.done == 2 and last.llm_tokens == spent > 0
    line = BatchLine(created.batch.id, "b", last.done, last.total, last.pass_rate, 1.0, 0.0)
    line.advance(last)
    assert f"· {spent:,} tokens" in line.figures()
