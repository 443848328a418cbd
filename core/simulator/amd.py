"""Answering machine detection as Twilio documents it (Calls API ``MachineDetection*`` parameters and
https://www.twilio.com/docs/voice/answering-machine-detection):

- no speech within ``MachineDetectionSilenceTimeout`` (default 5000 ms) → ``unknown``;
- speech longer than ``MachineDetectionSpeechThreshold`` (default 2400 ms) → a machine: ``machine_start``
  as soon as the threshold is passed (``Enable``), or with ``DetectMessageEnd`` once the message is over:
  ``machine_end_beep`` after a beep, else ``machine_end_silence`` after ``SpeechEndThreshold`` of silence;
- shorter speech followed by ``MachineDetectionSpeechEndThreshold`` (default 1200 ms) of silence → ``human``;
- nothing decided within ``MachineDetectionTimeout`` (default 30 s) → ``unknown``.

So an AI agent whose greeting talks for longer than the speech threshold is classed a machine, as on
Twilio. Without ``AsyncAmd`` the call's TwiML waits for the result; with ``AsyncAmd=true`` it starts at
once and detection runs alongside.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AmdOptions:
    """The detection parameters of one create-call request (seconds)."""

    mode: str | None = None  # None, "Enable" or "DetectMessageEnd"
    async_amd: bool = False
    timeout_s: float = 30.0
    speech_threshold_s: float = 2.4
    speech_end_threshold_s: float = 1.2
    silence_timeout_s: float = 5.0


@dataclass(frozen=True)
class Greeting:
    """The answering side's first speech: when it starts and ends, and whether a beep follows it."""

    start: float
    end: float
    beep_end: float | None = None


def detect(options: AmdOptions, greeting: Greeting | None) -> tuple[str | None, float]:
    """AnsweredBy, and when the caller's script may start (seconds from the answer)."""
    if not options.mode:
        return None, 0.0
    answered_by, decided_at = _decide(options, greeting)
    if decided_at > options.timeout_s:
        answered_by, decided_at = "unknown", options.timeout_s
    return answered_by, 0.0 if options.async_amd else decided_at


def _decide(options: AmdOptions, greeting: Greeting | None) -> tuple[str, float]:
    if greeting is None or greeting.start >= options.silence_timeout_s:
        return "unknown", options.silence_timeout_s
    if greeting.end - greeting.start <= options.speech_threshold_s:
        return "human", greeting.end + options.speech_end_threshold_s
    if options.mode != "DetectMessageEnd":
        return "machine_start", greeting.start + options.speech_threshold_s
    if greeting.beep_end is not None:
        return "machine_end_beep", greeting.beep_end
    return "machine_end_silence", greeting.end + options.speech_end_threshold_s
