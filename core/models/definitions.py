"""Test definitions: what to run and what to check, one model per kind.

``TestDefinition`` is the discriminated union of the kinds; ``parse_test`` turns one suite
entry into it. Validation happens here so that nonsense is refused at import, not at run time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic import HttpUrl as _HttpUrl

from callboard.core.models.checks import Check, CheckBase, JudgeCheck, checks_for
from callboard.core.models.json_values import JsonValue, StoredPart
from callboard.core.models.names import NAME_SCHEMA, EnvVarName, check_name
from callboard.core.models.schema_rules import (
    PHONE_PATTERN,
    TAG_PATTERN,
    URL_PATTERN,
    at_most_one_of,
    case_insensitive,
    exactly_one_of,
)
from callboard.core.models.selection import Priority, Trials
from callboard.core.models.voice_steps import DEFAULT_SILENCE_MS, VoiceEndpoint, VoiceStep

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
DEFAULT_TIMEOUT_S: dict[str, float] = {
    "http": 30.0,
    "conversation": 120.0,
    "call": 300.0,
    "command": 600.0,
    "voice": 300.0,
}
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_URL = TypeAdapter(_HttpUrl)


@functools.lru_cache(maxsize=256)
def _valid_url(url: str) -> str:
    # Remembered: a test's definition is validated again each time one of its runs starts, and the
    # tests of a suite mostly share a few URLs. A refused URL raises, and is not remembered.
    _URL.validate_python(url)
    return url


class HttpRequest(StoredPart):
    """One HTTP request: at most one of ``json``, ``body`` or ``form`` is sent."""

    method: str = Field(default="GET", json_schema_extra={"pattern": case_insensitive(*HTTP_METHODS)})
    url: str = Field(json_schema_extra={"pattern": URL_PATTERN})
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    json_body: JsonValue = Field(default=None, alias="json")
    body: str | None = None
    form: dict[str, str] | None = None

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        serialize_by_alias=True,
        json_schema_extra=at_most_one_of("json", "body", "form"),
    )

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in HTTP_METHODS:
            raise ValueError(f"unknown HTTP method {value!r}; use one of {', '.join(HTTP_METHODS)}")
        return upper

    _url = field_validator("url")(classmethod(lambda cls, v: _valid_url(v)))

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequest:
        given = [k for k in ("json_body", "body", "form") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("give at most one of json, body, form")
        return self


class ChatEndpoint(StoredPart):
    """How to talk to a chat endpoint turn by turn.

    ``body`` is the JSON sent each turn; the strings ``{message}`` and ``{session}`` inside it are
    replaced by the turn's text and by the session id captured from the first reply (``session``
    JSONPath). ``reply`` is the JSONPath of the agent's text in each response.
    """

    url: str = Field(json_schema_extra={"pattern": URL_PATTERN})
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, JsonValue] = Field(
        default_factory=lambda: {"message": "{message}", "session_id": "{session}"}
    )
    reply: str = "$.reply"
    session: str | None = "$.session_id"
    end: str | None = Field(
        default=None,
        description="JSONPath of a flag in the reply that is true when the agent ended the chat.",
    )

    _url = field_validator("url")(classmethod(lambda cls, v: _valid_url(v)))


class Turn(StoredPart):
    """One caller turn of a conversation and the checks on the agent's reply to it."""

    say: str = Field(min_length=1)
    expect: list[Check] = Field(
        default_factory=list, json_schema_extra=checks_for("conversation", judge=False)
    )


class SimulatedUserSpec(StoredPart):
    """A user played by a model: who they are (``persona``), what they want (``goal``), and at most
    ``max_turns`` of their lines; ``model`` names another model than ``[llm].model``."""

    persona: str = Field(min_length=1, max_length=4000)
    goal: str = Field(min_length=1, max_length=4000)
    max_turns: int = Field(default=10, ge=1, le=100)
    model: str | None = Field(default=None, min_length=1, max_length=200)


def _one_caller_action(schema: dict[str, Any]) -> None:
    # The model validator's rule, stated in the schema: one action; voice and language only with say.
    schema["oneOf"] = exactly_one_of("say", "pause", "play", "digits", "hangup")["oneOf"]
    for branch in schema["oneOf"][1:]:
        branch["properties"] |= {"voice": {"type": "null"}, "language": {"type": "null"}}


class CallerStep(StoredPart):
    """One step of the scripted caller: exactly one of say, pause, play, digits, hangup."""

    model_config = ConfigDict(json_schema_extra=_one_caller_action)

    say: str | None = None
    voice: str | None = None
    language: str | None = None
    pause: float | None = Field(default=None, gt=0, le=600)
    play: str | None = None
    digits: str | None = Field(default=None, pattern=r"^[0-9*#wW]+$")
    hangup: bool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CallerStep:
        actions = [k for k in ("say", "pause", "play", "digits", "hangup") if getattr(self, k) is not None]
        if len(actions) != 1:
            raise ValueError("a caller step needs exactly one of say, pause, play, digits, hangup")
        if (self.voice or self.language) and self.say is None:
            raise ValueError("voice and language go with say")
        return self


def _kind_required(schema: dict[str, Any]) -> None:
    # ``kind`` has a default in each model but picks the model in the union: a test must give it.
    required = schema.setdefault("required", [])
    if "kind" not in required:
        required.append("kind")


class TestBase(StoredPart):
    """Fields every test shares."""

    model_config = ConfigDict(json_schema_extra=_kind_required)
    __test__: ClassVar[bool] = False  # not a pytest class

    name: str = Field(min_length=1, max_length=200, json_schema_extra=NAME_SCHEMA)
    kind: str
    description: str = ""
    tags: list[Annotated[str, Field(json_schema_extra={"pattern": TAG_PATTERN})]] = Field(
        default_factory=list
    )
    timeout_s: float | None = Field(default=None, gt=0, le=86_400)
    retries: int = Field(default=2, ge=0, le=20, description="Retries for transient errors only.")
    priority: Priority = 0
    repeat: Trials = Field(default=1, description="Trials per batch.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = [check_name(tag, "a tag") for tag in value]
        if any(not tag or "," in tag or " " in tag for tag in cleaned):
            raise ValueError("tags are non-empty words without spaces or commas")
        return list(dict.fromkeys(cleaned))

    def effective_timeout_s(self) -> float:
        """The timeout in force: the test's own, or the kind's default."""
        return self.timeout_s if self.timeout_s is not None else DEFAULT_TIMEOUT_S[self.kind]

    def target(self) -> str:
        """What the test talks to, for display and per-target limits."""
        raise NotImplementedError

    def skip_reason(self) -> str | None:
        """Why this test cannot run now, or None."""
        return None

    def all_checks(self) -> list[CheckBase]:
        """Every check of the test, for kind validation."""
        return list(getattr(self, "checks", []))

    def uses_model(self) -> bool:
        """Whether a run of this test talks to the LLM (a simulated user or a judge check)."""
        if getattr(self, "simulate", None) is not None:
            return True
        return any(isinstance(check, JudgeCheck) for check in self.all_checks())

    @model_validator(mode="after")
    def _checks_fit_kind(self) -> TestBase:
        for check in self.all_checks():
            if self.kind not in check.applies_to:
                kinds = ", ".join(sorted(check.applies_to))
                raise ValueError(
                    f"check '{check.primary}' does not apply to {self.kind} tests (only to {kinds})"
                )
        return self


class HttpTest(TestBase):
    """One HTTP request and checks on the response."""

    kind: Literal["http"] = "http"
    request: HttpRequest
    checks: list[Check] = Field(default_factory=list, json_schema_extra=checks_for("http"))

    def target(self) -> str:
        return self.request.url


def _script_or_simulation(script: str) -> Callable[[dict[str, Any]], None]:
    """The schema's side of ``_scripted_or_simulated``: a non-empty ``script`` or ``simulate``."""

    def state(schema: dict[str, Any]) -> None:
        _kind_required(schema)
        schema["oneOf"] = [
            {"required": [script], "properties": {script: {"minItems": 1}, "simulate": {"type": "null"}}},
            {
                "required": ["simulate"],
                "properties": {"simulate": {"not": {"type": "null"}}, script: {"maxItems": 0}},
            },
        ]

    return state


def _scripted_or_simulated(*, scripted: bool, info: ValidationInfo, test: str, script: str) -> None:
    """A script (``script``, validated after ``simulate``) or a simulated user, exactly one."""
    simulated = info.data.get("simulate") is not None
    if scripted and simulated:
        raise ValueError(f"give either {script} or simulate, not both")
    if not scripted and not simulated and "simulate" in info.data:
        raise ValueError(f"{test} needs {script} or a simulated user (simulate)")


class ConversationTest(TestBase):
    """A multi-turn chat over an HTTP endpoint: scripted ``turns`` with checks per turn, or a user
    simulated by a model (``simulate``); ``checks`` judge the whole conversation."""

    model_config = ConfigDict(json_schema_extra=_script_or_simulation("turns"))

    kind: Literal["conversation"] = "conversation"
    endpoint: ChatEndpoint
    simulate: SimulatedUserSpec | None = None
    turns: list[Turn] = Field(default_factory=list, validate_default=True)
    checks: list[Check] = Field(default_factory=list, json_schema_extra=checks_for("conversation"))

    def target(self) -> str:
        return self.endpoint.url

    def all_checks(self) -> list[CheckBase]:
        return [*(check for turn in self.turns for check in turn.expect), *self.checks]

    @field_validator("turns")
    @classmethod
    def _script_or_simulation(cls, value: list[Turn], info: ValidationInfo) -> list[Turn]:
        _scripted_or_simulated(
            scripted=bool(value), info=info, test="a conversation", script="scripted turns"
        )
        return value

    @model_validator(mode="after")
    def _judges_read_everything(self) -> ConversationTest:
        if any(isinstance(check, JudgeCheck) for turn in self.turns for check in turn.expect):
            raise ValueError("judge checks read the whole conversation: put them in the test's checks")
        return self


class MachineDetection(StoredPart):
    """Twilio's answering machine detection options for one call test (unset: Twilio's defaults)."""

    async_amd: bool = Field(default=False, description="Run the script at once; detect in the background.")
    speech_threshold_ms: int | None = Field(default=None, ge=1000, le=6000)
    speech_end_threshold_ms: int | None = Field(default=None, ge=500, le=5000)
    silence_timeout_ms: int | None = Field(default=None, ge=2000, le=10000)


# Allowance on top of a call's time limit for queueing, ringing and the post-call work (recording,
# transcript, price), when the test sets no timeout_s of its own.
CALL_OVERHEAD_S = 1800.0
MAX_CALL_TIME_LIMIT_S = 14_400


def _amd_needs_detection(schema: dict[str, Any]) -> None:
    # The validator's rule, stated in the schema; ``timeout_s`` > ``time_limit_s`` compares two
    # values, which JSON Schema cannot say: that one is refused with 422 naming both.
    _kind_required(schema)
    schema["anyOf"] = [
        {"properties": {"amd": {"type": "null"}}},
        {"required": ["machine_detection"], "properties": {"machine_detection": {"const": True}}},
    ]


class CallTest(TestBase):
    """A phone call placed to an agent, with a scripted caller and checks on the call.

    ``time_limit_s`` is the call's own limit (Twilio's TimeLimit; unset: ``twilio.default_time_limit_s``);
    the work after the call has its own budget (``twilio.post_call_timeout_s``). ``timeout_s``, when
    set, caps the whole run and so also the call.
    """

    model_config = ConfigDict(json_schema_extra=_amd_needs_detection)

    kind: Literal["call"] = "call"
    phone: Annotated[str, Field(json_schema_extra={"pattern": PHONE_PATTERN})] | None = None
    caller: list[CallerStep] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list, json_schema_extra=checks_for("call"))
    record: bool = True
    machine_detection: bool = False
    amd: MachineDetection | None = None
    time_limit_s: int | None = Field(default=None, ge=1, le=MAX_CALL_TIME_LIMIT_S)

    @model_validator(mode="after")
    def _call_options(self) -> CallTest:
        if self.amd is not None and not self.machine_detection:
            raise ValueError("amd options need machine_detection = true")
        if (
            self.timeout_s is not None
            and self.time_limit_s is not None
            and self.timeout_s <= self.time_limit_s
        ):
            raise ValueError("timeout_s caps the whole run: it must be longer than time_limit_s")
        return self

    def effective_timeout_s(self) -> float:
        """The test's own timeout; else the call's limit plus the allowance for everything around it."""
        if self.timeout_s is not None:
            return self.timeout_s
        return (self.time_limit_s or MAX_CALL_TIME_LIMIT_S) + CALL_OVERHEAD_S

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s()\-.]", "", value)
        if not compact:
            return None
        if not E164.match(compact):
            raise ValueError(f"{value!r} is not an E.164 phone number such as +15555550100")
        return compact

    def target(self) -> str:
        return self.phone or ""

    def skip_reason(self) -> str | None:
        return None if self.phone else "no phone number"


"""The name of an environment variable a command may be given from the daemon's environment."""


class CommandTest(TestBase):
    """A command line (a Playwright or pytest suite, a script) and checks on how it ended."""

    kind: Literal["command"] = "command"
    command: str = Field(min_length=1)
    cwd: str | None = Field(
        default=None,
        description="Where the command runs; relative to the suite file's directory (the default).",
    )
    env: dict[str, str] = Field(default_factory=dict)
    pass_env: list[EnvVarName] = Field(
        default_factory=list,
        description="The daemon's environment variables passed on to the command (never CALLBOARD_*).",
    )
    junit: str | None = Field(
        default=None, description="JUnit XML file the command writes; parsed into checks."
    )
    checks: list[Check] = Field(default_factory=list, json_schema_extra=checks_for("command"))

    def target(self) -> str:
        return self.command


class VoiceTest(TestBase):
    """A conversation with a voice agent over its own Media Streams WebSocket, callboard playing Twilio."""

    model_config = ConfigDict(json_schema_extra=_script_or_simulation("caller"))

    kind: Literal["voice"] = "voice"
    endpoint: VoiceEndpoint
    simulate: SimulatedUserSpec | None = None
    caller: list[VoiceStep] = Field(default_factory=list, max_length=500, validate_default=True)
    checks: list[Check] = Field(default_factory=list, json_schema_extra=checks_for("voice"))
    silence_ms: int = Field(
        default=DEFAULT_SILENCE_MS, ge=100, le=10_000, description="Quiet that ends the agent's turn."
    )
    record: bool = True

    def target(self) -> str:
        return self.endpoint.url

    def all_checks(self) -> list[CheckBase]:
        return [*self.checks, *(check for step in self.caller for check in step.expect)]

    @field_validator("caller")
    @classmethod
    def _script_or_simulation(cls, value: list[VoiceStep], info: ValidationInfo) -> list[VoiceStep]:
        _scripted_or_simulated(scripted=bool(value), info=info, test="a voice test", script="caller steps")
        return value


TestDefinition = Annotated[
    HttpTest | ConversationTest | CallTest | CommandTest | VoiceTest, Field(discriminator="kind")
]
"""A test of any kind."""

_ADAPTER: TypeAdapter[TestDefinition] = TypeAdapter(TestDefinition)


def parse_test(data: dict[str, Any]) -> TestDefinition:
    """Validate one suite entry into its test model (raises pydantic.ValidationError)."""
    return _ADAPTER.validate_python(data)


def parse_test_text(text: str | bytes) -> TestDefinition:
    """Validate one suite entry given as JSON text (raises pydantic.ValidationError); a fifth faster
    than ``parse_test(json.loads(text))``, as no dict is built first."""
    return _ADAPTER.validate_json(text)


def dump_test(test: TestDefinition) -> dict[str, Any]:
    """The suite form of a test: defaults left out, so it reads like what a person wrote."""
    data = test.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    data["kind"] = test.kind
    return {"name": data.pop("name"), "kind": data.pop("kind"), **data}
