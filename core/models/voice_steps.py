"""The parts of a ``voice`` test: the Media Streams endpoint and the steps of the listening caller."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callboard.core.models.checks import Check

DEFAULT_SILENCE_MS = 700
DEFAULT_WAIT_TIMEOUT_S = 15.0
_ACTIONS = ("say", "play", "digits", "pause", "wait", "hangup")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VoiceEndpoint(_Strict):
    """The agent's Media Streams WebSocket: callboard connects and plays Twilio's part on it.

    ``custom_parameters`` arrive in the ``start`` message's ``customParameters``, as the
    ``<Parameter>`` nouns of a ``<Stream>`` would.
    """

    url: str
    protocol: Literal["twilio"] = "twilio"
    custom_parameters: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in ("ws", "wss") or not rest or rest.startswith("/"):
            raise ValueError(f"{value!r} is not a WebSocket URL (ws://host[:port]/path or wss://...)")
        if any(ch.isspace() for ch in value):
            raise ValueError("a WebSocket URL has no spaces")
        return value


class VoiceStep(_Strict):
    """One step of the caller: exactly one of say, play, digits, pause, wait, hangup.

    ``wait = "agent"`` waits until the agent has spoken and then stayed quiet ``silence_ms``;
    ``wait = "speech"`` until the agent starts speaking. A wait that lasts ``timeout_s`` fails the test.
    ``expect`` (on ``wait = "agent"``) checks what the agent said during that wait.
    """

    say: str | None = Field(default=None, min_length=1, max_length=2000)
    voice: str | None = Field(default=None, min_length=1, max_length=100)
    play: str | None = Field(default=None, min_length=1)
    digits: str | None = Field(default=None, pattern=r"^[0-9*#wW]+$")
    pause: float | None = Field(default=None, gt=0, le=600)
    wait: Literal["agent", "speech"] | None = None
    silence_ms: int | None = Field(default=None, ge=100, le=10_000)
    timeout_s: float | None = Field(default=None, gt=0, le=600)
    expect: list[Check] = Field(default_factory=list)
    hangup: bool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> VoiceStep:
        actions = [key for key in _ACTIONS if getattr(self, key) is not None]
        if len(actions) != 1:
            raise ValueError("a caller step needs exactly one of " + ", ".join(_ACTIONS))
        if self.hangup is False:
            raise ValueError("hangup = false does nothing; leave the step out")
        if self.voice is not None and self.say is None:
            raise ValueError("voice goes with say")
        if (self.silence_ms is not None or self.timeout_s is not None) and self.wait is None:
            raise ValueError("silence_ms and timeout_s go with wait")
        if self.silence_ms is not None and self.wait == "speech":
            raise ValueError('silence_ms goes with wait = "agent"')
        if self.expect and self.wait != "agent":
            raise ValueError('expect goes with wait = "agent" (what the agent said while the caller waited)')
        return self

    @property
    def action(self) -> str:
        """Which of say, play, digits, pause, wait, hangup this step is."""
        return next(key for key in _ACTIONS if getattr(self, key) is not None)
