"""The parts of a ``voice`` test: the Media Streams endpoint and the steps of the listening caller."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from callboard.core.models.checks import Check, checks_for
from callboard.core.models.json_values import StoredPart
from callboard.core.models.schema_rules import WEBSOCKET_URL_PATTERN

DEFAULT_SILENCE_MS = 700
DEFAULT_WAIT_TIMEOUT_S = 15.0
_ACTIONS = ("say", "play", "digits", "pause", "wait", "hangup")


class VoiceEndpoint(StoredPart):
    """The agent's Media Streams WebSocket: callboard connects and plays Twilio's part on it.

    ``custom_parameters`` arrive in the ``start`` message's ``customParameters``, as the
    ``<Parameter>`` nouns of a ``<Stream>`` would.
    """

    url: str = Field(json_schema_extra={"pattern": WEBSOCKET_URL_PATTERN})
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


_NULL = {"type": "null"}


def _step_branch(action: str, value: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """One kind of step: ``action`` set to ``value``; the other actions, and the options not in
    ``allowed``, left out."""
    properties: dict[str, Any] = {other: _NULL for other in _ACTIONS if other != action}
    properties |= {option: _NULL for option in ("voice", "silence_ms", "timeout_s") if option not in allowed}
    if "expect" not in allowed:
        properties["expect"] = {"maxItems": 0}
    return {"required": [action], "properties": {action: value, **properties}}


def _one_step_action(schema: dict[str, Any]) -> None:
    # The model validator's rules, stated in the schema: one action per step, and each option only
    # with the action it belongs to.
    not_null = {"not": _NULL}
    schema["oneOf"] = [
        _step_branch("say", not_null, ("voice",)),
        _step_branch("play", not_null, ()),
        _step_branch("digits", not_null, ()),
        _step_branch("pause", not_null, ()),
        _step_branch("wait", {"const": "agent"}, ("silence_ms", "timeout_s", "expect")),
        _step_branch("wait", {"const": "speech"}, ("timeout_s",)),
        _step_branch("hangup", {"const": True}, ()),
    ]


class VoiceStep(StoredPart):
    """One step of the caller: exactly one of say, play, digits, pause, wait, hangup.

    ``wait = "agent"`` waits until the agent has spoken and then stayed quiet ``silence_ms``;
    ``wait = "speech"`` until the agent starts speaking. A wait that lasts ``timeout_s`` fails the test.
    ``expect`` (on ``wait = "agent"``) checks what the agent said during that wait.
    """

    model_config = ConfigDict(json_schema_extra=_one_step_action)

    say: str | None = Field(default=None, min_length=1, max_length=2000)
    voice: str | None = Field(default=None, min_length=1, max_length=100)
    play: str | None = Field(default=None, min_length=1)
    digits: str | None = Field(default=None, pattern=r"^[0-9*#wW]+$")
    pause: float | None = Field(default=None, gt=0, le=600)
    wait: Literal["agent", "speech"] | None = None
    silence_ms: int | None = Field(default=None, ge=100, le=10_000)
    timeout_s: float | None = Field(default=None, gt=0, le=600)
    expect: list[Check] = Field(default_factory=list, json_schema_extra=checks_for("voice"))
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
