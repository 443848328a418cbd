"""The simulator's settings: credentials, time scale, limits, and what each phone number does."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Outcome = Literal["answer", "busy", "no-answer", "failed", "rejected"]
Persona = Literal["clinic", "voicemail", "silent"]
Channel = Literal[1, 2]
TranscriptOutcome = Literal["completed", "failed", "error"]

DEFAULT_ACCOUNT_SID = "AC" + "F" * 32
DEFAULT_AUTH_TOKEN = "simulator-test-token-not-a-secret"


class NumberBehaviour(BaseModel):
    """What happens when the simulator dials one number. Times are simulated seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Outcome = "answer"
    persona: Persona = "clinic"
    description: str = ""
    ring_s: float = Field(default=2.0, ge=0)
    first_word_s: float = Field(default=0.8, ge=0)
    turn_latency_s: float = Field(default=1.0, ge=0)
    # The agent stops talking when the caller starts (modern voice agents do); DTMF never interrupts.
    barge_in: bool = True
    # The agent hangs up on its own this long after answering (None: only the caller hangs up).
    hangup_after_s: float | None = Field(default=None, gt=0)
    # For "failed" (kept on the call, shown by /_sim/calls) and "rejected" (the HTTP 400's Twilio code).
    error_code: int | None = None
    error_message: str | None = None
    # The clinic's greeting, when not its usual one (a short "hello" is what AMD classes as a human).
    greeting: str | None = None
    # The recording channel the agent is heard on; None: the simulator's ``agent_channel``.
    agent_channel: Channel | None = None
    # How a Voice Intelligence transcript of this number's calls ends.
    transcript_outcome: TranscriptOutcome = "completed"


DEFAULT_NUMBERS: dict[str, NumberBehaviour] = {
    "+15550100001": NumberBehaviour(description="demo clinic receptionist"),
    "+15550100002": NumberBehaviour(outcome="busy", ring_s=1.0, description="busy"),
    "+15550100003": NumberBehaviour(outcome="no-answer", description="rings until Timeout"),
    "+15550100004": NumberBehaviour(
        outcome="failed",
        ring_s=0.0,
        error_code=13224,
        error_message="Twilio does not support calling this number or the number is invalid",
        description="fails (13224)",
    ),
    "+15550100005": NumberBehaviour(
        persona="voicemail", ring_s=4.0, first_word_s=0.5, description="voicemail (a machine)"
    ),
    "+15550100006": NumberBehaviour(
        ring_s=4.0, first_word_s=4.0, turn_latency_s=3.5, description="slow clinic receptionist"
    ),
    "+15550100007": NumberBehaviour(hangup_after_s=8.0, description="clinic that hangs up after 8 s"),
    "+15550100008": NumberBehaviour(persona="silent", description="answers, never speaks"),
    "+15550100009": NumberBehaviour(transcript_outcome="error", description="clinic whose transcripts fail"),
    "+15550100010": NumberBehaviour(
        greeting="Bright Smile Dental, hello?", description="clinic with a short greeting (AMD: human)"
    ),
    # The number the bundled examples (examples/calls.toml) dial.
    "+15555550100": NumberBehaviour(description="demo clinic receptionist (the examples' number)"),
}

UNKNOWN_NUMBER = NumberBehaviour(
    outcome="rejected",
    error_code=21215,
    description="refused at creation, like Twilio's geo permissions",
)


class SimulatorConfig(BaseModel):
    """Everything the simulator can be told. The defaults describe a one-account Twilio look-alike."""

    model_config = ConfigDict(extra="forbid")

    account_sid: str = Field(default=DEFAULT_ACCOUNT_SID, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr = SecretStr(DEFAULT_AUTH_TOKEN)
    # API keys (SK + 32 hex) with their secrets, accepted like the account SID and auth token.
    api_keys: dict[str, SecretStr] = Field(default_factory=dict)
    # Real seconds per simulated second: 1.0 is real time, 0.01 runs a one-minute call in 0.6 s.
    time_scale: float = Field(default=1.0, gt=0)
    # Calls-per-second cap (token bucket in real time, as Twilio's CPS is) and its burst size. Calls over
    # it wait in the account's queue (Twilio's behaviour); "reject" answers 429/20429 instead.
    cps: float = Field(default=5.0, gt=0)
    cps_burst: float | None = Field(default=None, ge=1)
    cps_excess: Literal["queue", "reject"] = "queue"
    max_concurrent_calls: int = Field(default=100, ge=1)
    numbers: dict[str, NumberBehaviour] = Field(default_factory=lambda: dict(DEFAULT_NUMBERS))
    unknown_number: NumberBehaviour = UNKNOWN_NUMBER
    queue_s: float = Field(default=0.5, ge=0)
    # Dual-channel recordings put the agent on this channel (Twilio documents channel 1 as the parent
    # call; which side an API call's single leg lands on is not documented, so both are testable).
    agent_channel: Channel = 2
    speech_words_per_s: float = Field(default=2.5, gt=0)
    play_s: float = Field(default=3.0, ge=0)
    # A call given Url/ApplicationSid instead of Twiml: the simulator cannot fetch it, the caller stays
    # silent this long and hangs up.
    url_call_s: float = Field(default=10.0, ge=0)
    price_per_minute: float = Field(default=0.013, ge=0)
    # Twilio bills a call some time after it ends: its price is null until then (simulated seconds).
    price_delay_s: float = Field(default=30.0, ge=0)
    recording_price_per_minute: float = Field(default=0.0025, ge=0)
    recording_delay_s: float = Field(default=0.0, ge=0)
    transcript_queue_s: float = Field(default=1.0, ge=0)
    transcript_processing_s: float = Field(default=3.0, ge=0)
    # A Voice Intelligence service with automatic transcription: every recording gets a transcript.
    auto_transcribe_service_sid: str | None = Field(default=None, pattern=r"^GA[0-9a-fA-F]{32}$")
    # Fault hooks (real seconds): hold a create-call request before the call is placed (a client gone
    # meanwhile gets no call), or hold its answer after the call is placed.
    create_hold_s: float = Field(default=0.0, ge=0)
    create_answer_hold_s: float = Field(default=0.0, ge=0)
    wav_sample_rate: int = Field(default=8000, ge=1000, le=48000)

    @property
    def burst(self) -> float:
        """The token bucket's size: one second's worth of calls unless set."""
        return self.cps_burst if self.cps_burst is not None else max(1.0, self.cps)

    def behaviour(self, number: str) -> NumberBehaviour:
        """What dialling ``number`` does."""
        return self.numbers.get(number, self.unknown_number)

    def credentials(self) -> dict[str, str]:
        """Username → password pairs accepted by HTTP Basic auth."""
        pairs = {self.account_sid: self.auth_token.get_secret_value()}
        pairs.update({sid: secret.get_secret_value() for sid, secret in self.api_keys.items()})
        return pairs

    def to_json(self) -> str:
        """The config as JSON *with* its secrets revealed, to hand to a child process (never to log)."""
        data = self.model_dump(mode="json")
        data["auth_token"] = self.auth_token.get_secret_value()
        data["api_keys"] = {sid: secret.get_secret_value() for sid, secret in self.api_keys.items()}
        return json.dumps(data)
