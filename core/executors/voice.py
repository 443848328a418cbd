"""The ``voice`` executor: a real-time audio conversation with an agent over its Media Streams socket.

callboard plays Twilio's part (``core.voice``): it opens the agent's WebSocket, sends ``connected`` and
``start``, streams the caller's audio frame by frame, plays the agent's audio back at real time and
measures everything from that audio. Results: checks, metrics (first word, turn latencies, barge-in stop,
talk-over, late answers, duration), a transcript (agent turns transcribed when speech-to-text is
configured) and a private stereo WAV (caller left, agent right) in ``artifacts["recording"]``. The caller
follows the test's steps, or is a user simulated by the model (``simulate``), heard through STT.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from callboard.core.checks.voice_checks import (
    VoiceObservation,
    evaluate_voice_check,
    evaluate_voice_checks,
    voice_metrics,
)
from callboard.core.execution.base import Job, Outcome, RunError, TransientError
from callboard.core.llm import LlmService
from callboard.core.models import CheckResult, TranscriptEntry, VoiceTest
from callboard.core.models.voice_steps import DEFAULT_WAIT_TIMEOUT_S
from callboard.core.voice.caller import ScriptReport, run_script
from callboard.core.voice.mulaw import FRAME_BYTES, FRAME_MS
from callboard.core.voice.options import VoiceOptions, build_stt, build_tts
from callboard.core.voice.protocol import TwilioStream
from callboard.core.voice.session import MediaSession, Recording
from callboard.core.voice.simulated_caller import SimulatedReport, run_simulated
from callboard.core.voice.stt import NO_STT, SttProvider
from callboard.core.voice.timeline import CallerTurn, Timeline, agent_segments, caller_turns, measure
from callboard.core.voice.tts import CachedTts, SpeechError
from callboard.core.voice.vad import FrameVad, Segment
from callboard.core.voice.wav import read_wav_as_mulaw, write_stereo_recording

_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class VoiceExecutor:
    """Runs voice tests with the ``[voice]`` settings; recordings go to ``recordings_dir`` (None: none)."""

    kind = "voice"

    def __init__(
        self, options: VoiceOptions, recordings_dir: Path | None = None, llm: LlmService | None = None
    ) -> None:
        self._options = options
        self._recordings = recordings_dir
        self._llm = llm
        self._client = httpx.AsyncClient(timeout=options.provider_timeout_s)
        self._tts: CachedTts = build_tts(options, self._client)
        self._stt: SttProvider | None = build_stt(options, self._client)

    async def execute(self, job: Job) -> Outcome:
        """Prepare the caller's audio, hold the conversation, then judge it."""
        test = job.test
        if not isinstance(test, VoiceTest):
            raise RunError("internal", f"the voice executor cannot run a {test.kind} test")
        self._check_simulation(test)
        audio = await self._prepare(test)
        vad = FrameVad(self._options.vad_aggressiveness)
        stream = TwilioStream(custom_parameters=dict(test.endpoint.custom_parameters))
        try:
            socket = await connect(
                test.endpoint.url,
                open_timeout=self._options.connect_timeout_s,
                max_size=_MAX_MESSAGE_BYTES,
                compression=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            error = RunError if 400 <= status < 500 and status != 429 else TransientError
            message = f"{test.endpoint.url} answered HTTP {status} instead of accepting the WebSocket"
            raise error("connect", message) from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise TransientError("connect", f"cannot open {test.endpoint.url}: {exc}") from None
        except InvalidURI as exc:
            raise RunError("config", f"bad WebSocket URL {test.endpoint.url}: {exc}") from None
        session = MediaSession(socket, stream, vad)
        try:
            await session.open()
            if test.simulate is not None:
                report: ScriptReport | SimulatedReport = await self._simulate(session, test)
            else:
                report = await run_script(
                    session, test.caller, audio, test.silence_ms, DEFAULT_WAIT_TIMEOUT_S
                )
            await session.hangup()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(session.close())
        return await self._outcome(job, test, session, report)

    def _check_simulation(self, test: VoiceTest) -> None:
        if test.simulate is None:
            return
        if self._llm is None:
            raise RunError("llm_config", "a simulated user needs a model, and no [llm] settings were given")
        if self._stt is None:
            raise RunError(
                "config", "a simulated voice user hears the agent through speech-to-text: set [voice] stt"
            )

    async def _simulate(self, session: MediaSession, test: VoiceTest) -> SimulatedReport:
        assert test.simulate is not None and self._llm is not None and self._stt is not None
        spec = test.simulate
        user = self._llm.simulated_user(
            persona=spec.persona,
            goal=spec.goal,
            max_turns=spec.max_turns,
            description=test.description,
            model=spec.model,
        )
        try:
            report = await run_simulated(
                session, user, self._tts, self._stt, test.silence_ms, DEFAULT_WAIT_TIMEOUT_S
            )
        except SpeechError as exc:
            raise RunError("speech", f"simulated caller: {exc}") from None
        report.prompt = user.prompt
        return report

    async def aclose(self) -> None:
        """Close the providers' connection pool."""
        await self._client.aclose()

    async def _prepare(self, test: VoiceTest) -> dict[int, bytes]:
        audio: dict[int, bytes] = {}
        for index, step in enumerate(test.caller):
            try:
                if step.say is not None:
                    audio[index] = await self._tts.synthesize(step.say, step.voice)
                elif step.play is not None:
                    audio[index] = await asyncio.to_thread(read_wav_as_mulaw, Path(step.play).expanduser())  # noqa: ASYNC240
            except SpeechError as exc:
                raise RunError("tts", f"caller[{index}] say: {exc}") from None
            except (OSError, ValueError) as exc:
                raise RunError("config", f"caller[{index}] play = {step.play!r}: {exc}") from None
        return audio

    async def _outcome(
        self, job: Job, test: VoiceTest, session: MediaSession, report: ScriptReport | SimulatedReport
    ) -> Outcome:
        recording = session.recording
        presses = report.key_presses if isinstance(report, ScriptReport) else {}
        turns = caller_turns(recording, presses)
        gap_frames = test.silence_ms // FRAME_MS
        timeline = measure(recording, turns, gap_frames)
        said = _caller_texts(test) if isinstance(report, ScriptReport) else report.said
        transcript, note = await self._transcript(said, recording, turns, gap_frames)
        agent_entries = [entry for entry in transcript if entry.speaker == "agent"] if not note else None
        observation = _observation(timeline, agent_entries, note)
        checks: list[CheckResult] = list(report.failures)
        for window in report.waits if isinstance(report, ScriptReport) else ():
            expects = test.caller[window.step].expect
            if not expects:
                continue
            heard = None
            if agent_entries is not None:
                start, end = window.start * FRAME_MS / 1000, window.end * FRAME_MS / 1000
                heard = [entry for entry in agent_entries if start <= (entry.start or 0.0) < end]
            during = _observation(timeline, heard, note)
            checks += [evaluate_voice_check(check, during, f"caller[{window.step}] ") for check in expects]
        checks += evaluate_voice_checks(test.checks, observation)
        metrics = voice_metrics(observation)
        artifacts = {
            "stream_sid": session.stream.stream_sid,
            "call_sid": session.stream.call_sid,
            "hung_up_by": "agent" if session.agent_hung_up else "caller",
            "pacing_late_p99_ms": f"{_p99_ms(recording.lateness):.1f}",
        }
        if note:
            artifacts["transcript_note"] = note
        if isinstance(report, SimulatedReport):
            artifacts |= {"simulate.end": report.end, "simulate.status": report.status}
            artifacts["simulate.prompt"] = report.prompt
        elif report.steps_run < len(test.caller) and not report.failures:
            artifacts["steps_not_run"] = f"{len(test.caller) - report.steps_run} (the agent hung up)"
        if test.record and self._recordings is not None:
            path = self._recordings / f"run-{job.run_id}-attempt-{job.attempt}.wav"
            await asyncio.to_thread(
                write_stereo_recording, path, bytes(recording.caller_audio), bytes(recording.agent_audio)
            )
            artifacts["recording"] = str(path)
        return Outcome(checks=checks, metrics=metrics, transcript=transcript, artifacts=artifacts)

    async def _transcript(
        self, said: dict[int, str], recording: Recording, turns: list[CallerTurn], gap_frames: int
    ) -> tuple[list[TranscriptEntry], str]:
        entries = []
        for turn in turns:
            text = said.get(turn.index, "")
            entries.append(
                TranscriptEntry(speaker="caller", text=text, start=_s(turn.start), end=_s(turn.end))
            )
        note = "" if self._stt is not None else NO_STT
        for segment in agent_segments(recording, gap_frames):
            text = ""
            if self._stt is not None and not note:
                try:
                    text = await self._stt.transcribe(_audio_of(recording, segment))
                except SpeechError as exc:
                    note = f"transcription failed: {exc}"
            entries.append(
                TranscriptEntry(speaker="agent", text=text, start=_s(segment.start), end=_s(segment.end))
            )
        entries.sort(key=lambda entry: entry.start or 0.0)
        return entries, note


def _caller_texts(test: VoiceTest) -> dict[int, str]:
    """What the caller's turns say in the transcript, by step: the text, the file played, the keys."""
    texts = {}
    for index, step in enumerate(test.caller):
        if step.say is not None:
            texts[index] = step.say
        elif step.play is not None:
            texts[index] = f"[plays {Path(step.play).name}]"
        elif step.digits is not None:
            texts[index] = f"[keys {step.digits}]"
    return texts


def _observation(
    timeline: Timeline, agent_entries: list[TranscriptEntry] | None, note: str
) -> VoiceObservation:
    return VoiceObservation(
        duration_s=timeline.duration_s,
        first_word_ms=timeline.first_word_ms,
        turn_latencies_ms=timeline.turn_latencies_ms,
        barge_in_stops_ms=timeline.barge_in_stops_ms,
        talk_overs=timeline.talk_overs,
        late_answers=timeline.late_answers,
        transcript=agent_entries,
        no_transcript=note,
    )


def _audio_of(recording: Recording, segment: Segment) -> bytes:
    return bytes(recording.agent_audio[segment.start * FRAME_BYTES : segment.end * FRAME_BYTES])


def _s(frame: int) -> float:
    return round(frame * FRAME_MS / 1000, 3)


def _p99_ms(lateness: list[float]) -> float:
    if not lateness:
        return 0.0
    ordered = sorted(lateness)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
