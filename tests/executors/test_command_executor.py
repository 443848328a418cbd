"""The command executor with real subprocesses: checks, bounded output, killing on cancel, JUnit."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from callboard.core.execution.base import Executor, Job, Outcome, RunError

RunTest = Callable[[dict[str, Any]], Awaitable[Outcome]]
PYTHON = sys.executable


def command(line: str, **fields: Any) -> dict[str, Any]:
    return {"name": "cmd", "kind": "command", "command": line, **fields}


async def test_exit_zero_passes_the_implicit_check(run_test: RunTest) -> None:
    outcome = await run_test(command("echo hello; echo oops >&2"))
    assert [(c.name, c.passed) for c in outcome.checks] == [("exit_code=0", True)]
    assert outcome.artifacts == {"stdout_tail": "hello\n", "stderr_tail": "oops\n"}
    assert outcome.metrics["exit_code"] == 0 and outcome.metrics["duration_ms"] > 0


async def test_non_zero_exit_fails_unless_expected(run_test: RunTest) -> None:
    failed = await run_test(command("exit 3"))
    assert [(c.passed, c.actual) for c in failed.checks] == [(False, 3)]
    expected = await run_test(command("exit 3", checks=[{"exit_code": 3}]))
    assert [c.passed for c in expected.checks] == [True]
    assert expected.metrics["exit_code"] == 3


async def test_stdout_checks(run_test: RunTest) -> None:
    outcome = await run_test(
        command(f"{PYTHON} --version", checks=[{"regex": r"Python 3\.\d+"}, {"contains": "Ruby"}])
    )
    assert [(c.name, c.passed) for c in outcome.checks] == [
        ("exit_code=0", True),
        ("regex='Python 3\\\\.\\\\d+'", True),
        ("contains='Ruby'", False),
    ]


async def test_env_is_merged_and_cwd_used(run_test: RunTest, tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    line = 'echo "$CALLBOARD_TEST_VAR $HOME"; pwd'
    outcome = await run_test(command(line, cwd=str(tmp_path / "work"), env={"CALLBOARD_TEST_VAR": "set"}))
    first, second = outcome.artifacts["stdout_tail"].splitlines()
    assert first == f"set {os.environ['HOME']}"
    assert Path(second).resolve() == (tmp_path / "work").resolve()


async def test_a_missing_cwd_is_a_run_error(run_test: RunTest, tmp_path: Path) -> None:
    with pytest.raises(RunError) as raised:
        await run_test(command("true", cwd=str(tmp_path / "absent")))
    assert "absent" in raised.value.message


async def test_output_keeps_only_bounded_tails(run_test: RunTest) -> None:
    script = "import sys; sys.stdout.write('x' * 3_000_000 + 'END'); sys.stderr.write('e' * 100_000)"
    outcome = await run_test(command(f'{PYTHON} -c "{script}"', checks=[{"contains": "END"}]))
    assert all(check.passed for check in outcome.checks)
    stdout, stderr = outcome.artifacts["stdout_tail"], outcome.artifacts["stderr_tail"]
    assert stdout.endswith("xxxEND") and stdout.startswith("[... 2991811 earlier bytes dropped]")
    assert len(stdout) < 8300 and len(stderr) < 8300


async def test_leftover_background_processes_do_not_hold_the_run(run_test: RunTest, tmp_path: Path) -> None:
    outcome = await run_test(command("sleep 30 & echo $! > child.pid; echo started", cwd=str(tmp_path)))
    assert outcome.artifacts["stdout_tail"] == "started\n"
    await _until_gone(int((tmp_path / "child.pid").read_text()))


def _alive(pid: int) -> bool:
    # A killed process reparented to a PID 1 that does not reap stays a zombie: that counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


async def _until_gone(*pids: int) -> None:
    for _ in range(200):
        if not any(_alive(pid) for pid in pids):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"still running: {[pid for pid in pids if _alive(pid)]}")


async def test_cancel_kills_the_whole_process_group(
    executors: dict[str, Executor], make_job: Callable[[dict[str, Any]], Job], tmp_path: Path
) -> None:
    line = "sleep 30 & echo $! > child.pid; echo $$ > shell.pid; wait"
    task = asyncio.create_task(executors["command"].execute(make_job(command(line, cwd=str(tmp_path)))))
    pid_files = [tmp_path / "shell.pid", tmp_path / "child.pid"]
    for _ in range(200):
        if all(path.exists() and path.read_text().strip() for path in pid_files):
            break
        await asyncio.sleep(0.05)
    shell, child = (int(path.read_text()) for path in pid_files)
    assert _alive(shell) and _alive(child)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _until_gone(shell, child)


async def test_cancel_while_the_command_starts(
    executors: dict[str, Executor], make_job: Callable[[dict[str, Any]], Job], tmp_path: Path
) -> None:
    # The process is forked but its pipes are not connected yet (what a busy worker sees when a cancel
    # comes right after the claim): the cancel must not wait for the command to end by itself.
    task = asyncio.create_task(executors["command"].execute(make_job(command("sleep 30", cwd=str(tmp_path)))))
    await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=10)
    assert done == {task} and task.cancelled()


async def test_cancel_escalates_to_sigkill(
    executors: dict[str, Executor], make_job: Callable[[dict[str, Any]], Job], tmp_path: Path
) -> None:
    from callboard.core.executors.command import CommandExecutor

    line = "trap '' TERM; echo $$ > shell.pid; while true; do sleep 0.1; done"
    executor = CommandExecutor(terminate_grace_s=0.2)
    task = asyncio.create_task(executor.execute(make_job(command(line, cwd=str(tmp_path)))))
    pid_file = tmp_path / "shell.pid"
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _until_gone(int(pid_file.read_text()))


async def test_cancel_while_the_command_floods_its_output(
    executors: dict[str, Executor], make_job: Callable[[dict[str, Any]], Job]
) -> None:
    task = asyncio.create_task(executors["command"].execute(make_job(command("yes"))))
    await asyncio.sleep(0.2)  # let it write a good deal; no timing is asserted
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


TINY_TESTS = textwrap.dedent(
    """
    import pytest

    def test_passes():
        assert 1 + 1 == 2

    def test_fails():
        assert 1 + 1 == 3, "arithmetic is broken"

    @pytest.mark.skip(reason="not today")
    def test_skipped():
        pass
    """
)


async def test_junit_from_a_real_pytest_run(run_test: RunTest, tmp_path: Path) -> None:
    (tmp_path / "test_tiny.py").write_text(TINY_TESTS)
    line = f"{PYTHON} -m pytest -q -p no:cacheprovider --junitxml=out/report.xml test_tiny.py"
    outcome = await run_test(
        command(line, cwd=str(tmp_path), junit="out/report.xml", checks=[{"exit_code": 1}])
    )
    by_name = {check.name: check for check in outcome.checks}
    assert set(by_name) == {"exit_code=1", "test_tiny::test_passes", "test_tiny::test_fails"}
    assert by_name["exit_code=1"].passed and by_name["test_tiny::test_passes"].passed
    failed = by_name["test_tiny::test_fails"]
    assert not failed.passed and failed.actual == "failure" and "arithmetic is broken" in failed.message
    assert outcome.metrics["junit_skipped"] == 1


async def test_a_missing_junit_file_is_a_failed_check(run_test: RunTest, tmp_path: Path) -> None:
    outcome = await run_test(command("true", cwd=str(tmp_path), junit="nowhere.xml"))
    junit = outcome.checks[-1]
    assert junit.name == "junit" and not junit.passed and "was not written" in junit.message


async def test_an_invalid_junit_file_is_a_failed_check(run_test: RunTest, tmp_path: Path) -> None:
    outcome = await run_test(
        command("echo '<testsuite><testcase' > bad.xml", cwd=str(tmp_path), junit="bad.xml")
    )
    junit = outcome.checks[-1]
    assert junit.name == "junit" and not junit.passed and "XML" in junit.message


async def test_a_stale_junit_file_is_a_failed_check(run_test: RunTest, tmp_path: Path) -> None:
    stale = tmp_path / "old.xml"
    stale.write_text('<testsuite><testcase classname="a" name="b"/></testsuite>')
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    outcome = await run_test(command("true", cwd=str(tmp_path), junit="old.xml"))
    assert "not written by this run" in outcome.checks[-1].message
