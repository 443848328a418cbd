"""A caller played by the model: it listens to the agent, hears it through speech-to-text, and speaks
the simulated user's next line through text-to-speech, turn after turn.

Each round waits for the agent's turn (it spoke, then stayed quiet ``silence_ms``), transcribes what it
said in that wait, asks the simulated user for its next line and plays it. The conversation ends when
the user says its goal is done or cannot be done, when the agent hangs up, after ``max_turns`` lines,
or when the agent does not take its turn (a failed check naming the turn).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callboard.core.llm.simulated_user import SimulatedUser
from callboard.core.models import CheckResult, TranscriptEntry, VoiceStep
from callboard.core.voice.caller import ScriptReport, wait_step
from callboard.core.voice.mulaw import FRAME_BYTES, FRAME_MS
from callboard.core.voice.session import MediaSession
from callboard.core.voice.stt import SttProvider
from callboard.core.voice.tts import CachedTts

_WAIT_FOR_AGENT = VoiceStep(wait="agent")


@dataclass
class SimulatedReport:
    """How the simulated conversation went: its failed waits, each line said (turn → text), the end."""

    failures: list[CheckResult] = field(default_factory=list)
    said: dict[int, str] = field(default_factory=dict)
    status: str = "max_turns"
    end: str = ""
    prompt: str = ""


async def run_simulated(
    session: MediaSession,
    user: SimulatedUser,
    tts: CachedTts,
    stt: SttProvider,
    silence_ms: int,
    timeout_s: float,
) -> SimulatedReport:
    """Hold the conversation until the user is done, the agent hangs up, or ``user.max_turns`` lines."""
    report = SimulatedReport(end=f"max_turns ({user.max_turns}) reached")
    heard: list[TranscriptEntry] = []
    for turn in range(user.max_turns):
        start = session.frame
        failure = await wait_step(session, turn, _WAIT_FOR_AGENT, silence_ms, timeout_s, ScriptReport())
        if failure is not None:
            name = f"simulated turn {turn + 1}: the agent takes its turn"
            report.failures.append(failure.model_copy(update={"name": name}))
            report.status, report.end = "no_reply", f"the agent did not take turn {turn + 1}"
            return report
        text = await stt.transcribe(_agent_audio(session, start))
        heard.append(TranscriptEntry(speaker="agent", text=text, start=start * FRAME_MS / 1000))
        if session.ended:
            report.status, report.end = "agent_ended", "the agent hung up"
            return report
        line = await user.next_line(heard)
        if line.done:
            report.status, report.end = line.status, f"the simulated user: {line.status}: {line.reason}"
            return report
        audio = await tts.synthesize(line.text, None)
        heard.append(TranscriptEntry(speaker="caller", text=line.text, start=session.frame * FRAME_MS / 1000))
        report.said[turn] = line.text
        await session.play(audio, turn=turn)
    return report


def _agent_audio(session: MediaSession, start_frame: int) -> bytes:
    """What the agent played back from ``start_frame`` until now (μ-law)."""
    audio = session.recording.agent_audio
    return bytes(audio[start_frame * FRAME_BYTES : session.frame * FRAME_BYTES])
