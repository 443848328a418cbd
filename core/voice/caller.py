"""The caller: plays a voice test's steps on a live session, listening between them.

Audio for ``say`` and ``play`` is prepared before the socket opens, so synthesis never stalls the
conversation. ``wait = "agent"`` holds until the agent has spoken (or was speaking) and then stayed quiet
``silence_ms``; ``wait = "speech"`` until the agent starts speaking. A wait that runs out of time, or whose
agent hangs up without speaking, fails the test naming the step and ends the script — also when the
agent had already hung up before the wait came.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from callboard.core.models import CheckResult, VoiceStep
from callboard.core.voice.mulaw import FRAME_MS, silence
from callboard.core.voice.session import NO_TURN, MediaSession

DTMF_TONE_S = 0.25  # each key takes as long as a phone's tone; "w" waits half a second, as in sendDigits
DTMF_WAIT_S = 0.5


@dataclass(frozen=True)
class WaitWindow:
    """The frames a ``wait = "agent"`` step covered, for its ``expect`` checks."""

    step: int
    start: int
    end: int


@dataclass
class ScriptReport:
    """How the script went: failed waits, key presses (step → frame), windows of waits, who hung up."""

    failures: list[CheckResult] = field(default_factory=list)
    key_presses: dict[int, int] = field(default_factory=dict)
    waits: list[WaitWindow] = field(default_factory=list)
    steps_run: int = 0


def step_label(index: int, step: VoiceStep) -> str:
    """How results name a step, e.g. ``caller[2] wait = "agent"``."""
    value = getattr(step, step.action)
    shown = f'"{value}"' if isinstance(value, str) else f"{value}"
    return f"caller[{index}] {step.action} = {shown}"


async def run_script(
    session: MediaSession,
    steps: Sequence[VoiceStep],
    audio: dict[int, bytes],
    silence_ms: int,
    default_timeout_s: float,
) -> ScriptReport:
    """Play ``steps`` (``audio`` holds each say/play step's μ-law) until done, hung up or failed."""
    report = ScriptReport()
    for index, step in enumerate(steps):
        if session.ended:
            # The agent hung up: the next wait can no longer be met (unless it already was), so it is
            # judged now and the script ends; say, pause and digits steps before it just do not happen.
            pending = next(((i, s) for i, s in enumerate(steps) if i >= index and s.wait is not None), None)
            if pending is not None:
                failure = await wait_step(session, *pending, silence_ms, default_timeout_s, report)
                report.failures += [failure] if failure is not None else []
            break
        report.steps_run = index + 1
        if step.say is not None or step.play is not None:
            await session.play(audio[index], turn=index)
        elif step.pause is not None:
            await session.play(silence(step.pause), turn=NO_TURN)
        elif step.digits is not None:
            await _press(session, step.digits, index, report)
        elif step.hangup:
            await session.hangup()
            break
        elif step.wait is not None:
            failure = await wait_step(session, index, step, silence_ms, default_timeout_s, report)
            if failure is not None:
                report.failures.append(failure)
                break
    return report


async def _press(session: MediaSession, digits: str, index: int, report: ScriptReport) -> None:
    for digit in digits:
        if digit in "wW":
            await session.play(silence(DTMF_WAIT_S), turn=NO_TURN)
            continue
        await session.dtmf(digit)
        report.key_presses[index] = session.frame
        await session.play(silence(DTMF_TONE_S), turn=NO_TURN)


async def wait_step(
    session: MediaSession,
    index: int,
    step: VoiceStep,
    default_silence_ms: int,
    default_timeout_s: float,
    report: ScriptReport,
) -> CheckResult | None:
    """Hold a ``wait`` step until it is met (None) or cannot be (a failed check naming the step)."""
    agent = session.agent
    start = session.frame
    speaking_at_start = agent.speaking
    timeout_s = step.timeout_s or default_timeout_s
    if step.wait == "speech":

        def heard_speech() -> bool:
            return agent.speaking or bool(agent.segments and agent.segments[-1].start >= start)

        done = await session.until(heard_speech, timeout_s)
        expected = f"the agent starts speaking within {timeout_s:g} s"
        heard = heard_speech()
    else:
        quiet_frames = (step.silence_ms or default_silence_ms) // FRAME_MS

        def spoke() -> bool:
            last = agent.last_voiced
            return speaking_at_start or (last is not None and last >= start)

        def spoke_then_quiet() -> bool:
            last = agent.last_voiced
            return spoke() and last is not None and session.frame - 1 - last >= quiet_frames

        done = await session.until(spoke_then_quiet, timeout_s)
        report.waits.append(WaitWindow(index, start, session.frame))
        expected = f"the agent speaks, then is quiet {quiet_frames * FRAME_MS} ms, within {timeout_s:g} s"
        heard = spoke()
    if done or (session.ended and heard):
        return None
    if session.ended:
        message = "the agent hung up before speaking" if session.agent_hung_up else "the session ended"
    else:
        message = f"timed out after {timeout_s:g} s" + ("" if heard else " without hearing the agent")
    return CheckResult(name=step_label(index, step), passed=False, expected=expected, message=message)
