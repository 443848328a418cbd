"""Check definitions: what a test asserts about its outcome.

A check is written in suites as a small inline table whose *primary key* says what it is about:
``{ status = 200 }``, ``{ jsonpath = "$.reply", contains = "help" }``, ``{ latency_ms_below = 800 }``.
The primary key picks the model; every model forbids unknown keys, so a typo is an error, not a
check that silently never runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    model_serializer,
    model_validator,
)

from callboard.core.models.json_values import JsonValue, StoredPart
from callboard.core.models.schema_rules import any_given

JSONPATH_FORMAT = "jsonpath"
"""The OpenAPI ``format`` of a JSONPath (jsonpath_ng's extended syntax, which the daemon parses)."""
RegexText = Annotated[str, Field(json_schema_extra={"format": "regex"})]
"""A regular expression (Python's syntax): the daemon refuses one that does not compile."""


class CheckBase(StoredPart):
    """Fields every check shares."""

    name: str | None = Field(default=None, description="Label shown in results; derived when absent.")
    weight: float = Field(default=1.0, gt=0, description="Share of the score this check carries.")

    primary: ClassVar[str]
    applies_to: ClassVar[frozenset[str]]

    @model_serializer(mode="wrap")
    def _primary_first(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self.primary in data:
            return {self.primary: data.pop(self.primary), **data}
        return data

    def label(self) -> str:
        """The name shown in results: the explicit one, or the check written out briefly."""
        if self.name:
            return self.name
        # Read off the fields when each is a plain value, as its dump would give it (a run's checks
        # are labelled once a run, in the engine's loop); anything else goes through the dump.
        parts: list[str] = []
        for key in _label_keys(type(self)):
            value = getattr(self, key)
            if value is None:
                continue
            if type(value) not in _PLAIN_VALUES:
                fields = self.model_dump(exclude_none=True, exclude=set(_UNLABELLED))  # primary first
                return ", ".join(f"{key}={value!r}" for key, value in fields.items())
            parts.append(f"{key}={value!r}")
        return ", ".join(parts)


@functools.cache
def _label_keys(cls: type[CheckBase]) -> tuple[str, ...]:
    """The fields a check's label shows, its primary key first (worked out once a class)."""
    keys = [key for key in cls.model_fields if key not in _UNLABELLED]
    if cls.primary in keys:
        keys.remove(cls.primary)
        keys.insert(0, cls.primary)
    return tuple(keys)


_UNLABELLED = ("name", "weight")
_PLAIN_VALUES = frozenset({str, int, float, bool})


def _one_comparison(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    # The validator's rule, stated in the schema: at least one comparison is given.
    comparisons: tuple[str, ...] = getattr(cls, "_comparisons", ())
    schema["anyOf"] = any_given(*comparisons, *getattr(cls, "_extra_comparisons", ()))["anyOf"]


class _Matcher(CheckBase):
    """Mixin for checks that compare a text value: at least one comparison must be given."""

    model_config = ConfigDict(json_schema_extra=_one_comparison)

    contains: str | None = None
    not_contains: str | None = None
    regex: RegexText | None = None
    equals: JsonValue = None

    _comparisons: ClassVar[tuple[str, ...]] = ("contains", "not_contains", "regex", "equals")

    @model_validator(mode="after")
    def _needs_comparison(self) -> _Matcher:
        extra = getattr(self, "_extra_comparisons", ())
        if all(getattr(self, key) is None for key in (*self._comparisons, *extra)):
            wanted = ", ".join((*self._comparisons, *extra))
            raise ValueError(f"'{self.primary}' check needs one of: {wanted}")
        if self.regex is not None:
            _compile_regex(self.regex)
        return self


def _compile_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


HTTP_LIKE = frozenset({"http", "conversation"})
# Checks on what was heard: phone calls (Twilio's transcript) and voice tests (callboard's own audio).
CALL_LIKE = frozenset({"call", "voice"})


class StatusCheck(CheckBase):
    """The HTTP status code equals this value (or is one of these values)."""

    primary = "status"
    applies_to = HTTP_LIKE
    status: int | list[int]


class HeaderCheck(_Matcher):
    """A response header (case-insensitive name) exists, contains, matches or equals."""

    primary = "header"
    applies_to = HTTP_LIKE
    header: str = Field(min_length=1)
    exists: bool | None = None
    _extra_comparisons: ClassVar[tuple[str, ...]] = ("exists",)


class JsonPathCheck(_Matcher):
    """A JSONPath into the JSON body exists, contains, matches or equals."""

    primary = "jsonpath"
    applies_to = HTTP_LIKE
    jsonpath: str = Field(min_length=1, json_schema_extra={"format": JSONPATH_FORMAT})
    exists: bool | None = None
    _extra_comparisons: ClassVar[tuple[str, ...]] = ("exists",)

    @model_validator(mode="after")
    def _valid_path(self) -> JsonPathCheck:
        error = _jsonpath_error(self.jsonpath)
        if error:
            raise ValueError(f"invalid JSONPath {self.jsonpath!r}: {error}")
        return self


@functools.lru_cache(maxsize=4096)
def _jsonpath_error(path: str) -> str | None:
    # Parsing costs ~10 ms a path, and suites repeat the same few paths thousands of times.
    from jsonpath_ng.ext import parse

    try:
        parse(path)
    except Exception as exc:  # jsonpath_ng raises several unrelated types for bad syntax
        return str(exc) or type(exc).__name__
    return None


class BodyCheck(_Matcher):
    """The body (http), the agent's reply (conversation) or stdout (command) contains/matches/equals."""

    primary = "contains"
    applies_to = frozenset({"http", "conversation", "command"})


class JsonSchemaCheck(CheckBase):
    """The JSON body validates against this JSON Schema."""

    primary = "json_schema"
    applies_to = HTTP_LIKE
    json_schema: dict[str, JsonValue]


class LatencyCheck(CheckBase):
    """The response (or, in a conversation, the turn's reply) arrived within this many milliseconds."""

    primary = "latency_ms_below"
    applies_to = HTTP_LIKE
    latency_ms_below: float = Field(gt=0)


class ExitCodeCheck(CheckBase):
    """The command exited with this code."""

    primary = "exit_code"
    applies_to = frozenset({"command"})
    exit_code: int


class AnsweredCheck(CheckBase):
    """The call was (or was not) answered."""

    primary = "answered"
    applies_to = frozenset({"call"})
    answered: bool


class AnsweredByCheck(CheckBase):
    """Answering-machine detection said who answered."""

    primary = "answered_by"
    applies_to = frozenset({"call"})
    answered_by: Literal["human", "machine", "fax", "unknown"]


class DurationCheck(CheckBase):
    """The call (or voice session) lasted within these bounds, in seconds."""

    model_config = ConfigDict(json_schema_extra=any_given("duration_s_below", "duration_s_above"))

    primary = "duration_s_below"
    applies_to = CALL_LIKE
    duration_s_below: float | None = Field(default=None, gt=0)
    duration_s_above: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _needs_bound(self) -> DurationCheck:
        if self.duration_s_below is None and self.duration_s_above is None:
            raise ValueError("duration check needs duration_s_below or duration_s_above")
        return self


class AgentSaysCheck(CheckBase):
    """The agent's side of the call contains this text (or matches `regex`)."""

    primary = "agent_says"
    applies_to = CALL_LIKE
    agent_says: str = Field(min_length=1)
    regex: bool = False


class AgentNeverSaysCheck(CheckBase):
    """The agent's side of the call never contains this text (or matches `regex`)."""

    primary = "agent_never_says"
    applies_to = CALL_LIKE
    agent_never_says: str = Field(min_length=1)
    regex: bool = False


class FirstWordCheck(CheckBase):
    """The agent's first sentence started within this many milliseconds of the answer."""

    primary = "first_word_ms_below"
    applies_to = CALL_LIKE
    first_word_ms_below: float = Field(gt=0)


class TurnLatencyCheck(CheckBase):
    """The 90th percentile gap from caller sentence end to agent sentence start is below this."""

    primary = "turn_latency_p90_ms_below"
    applies_to = CALL_LIKE
    turn_latency_p90_ms_below: float = Field(gt=0)


class JudgeCheck(CheckBase):
    """A model reads the whole transcript and says, with a reason, whether ``judge`` (a criterion) held.

    ``model`` names another model than ``[llm].model``; ``judge_samples`` asks that many times and
    takes the majority (default ``[llm].judge_samples``).
    """

    primary = "judge"
    applies_to = frozenset({"conversation", "call", "voice"})
    judge: str = Field(min_length=1, max_length=4000)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    judge_samples: int | None = Field(default=None, ge=1, le=15)


class BargeInStopCheck(CheckBase):
    """When the caller spoke over the agent, the agent fell silent within this many milliseconds
    (every barge-in; a test with none fails as not evaluable)."""

    primary = "barge_in_stop_ms_below"
    applies_to = frozenset({"voice"})
    barge_in_stop_ms_below: float = Field(gt=0)


class TalkOverCheck(CheckBase):
    """The agent started speaking while the caller was speaking at most this many times."""

    primary = "talk_over_count_max"
    applies_to = frozenset({"voice"})
    talk_over_count_max: int = Field(ge=0)


class LateAnswerCheck(CheckBase):
    """The agent answered a turn after the caller had moved on (spoken again) at most this many times."""

    primary = "late_answer_count_max"
    applies_to = frozenset({"voice"})
    late_answer_count_max: int = Field(ge=0)


# Order matters: the first primary key found in a check's table decides its model. Specific keys come
# before the generic matcher keys (contains/regex/equals) that several models share.
CHECK_MODELS: tuple[type[CheckBase], ...] = (
    StatusCheck,
    HeaderCheck,
    JsonPathCheck,
    JsonSchemaCheck,
    LatencyCheck,
    ExitCodeCheck,
    AnsweredCheck,
    AnsweredByCheck,
    DurationCheck,
    AgentSaysCheck,
    AgentNeverSaysCheck,
    FirstWordCheck,
    TurnLatencyCheck,
    JudgeCheck,
    BargeInStopCheck,
    TalkOverCheck,
    LateAnswerCheck,
    BodyCheck,
)
_PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "header": ("header",),
    "jsonpath": ("jsonpath",),
    "json_schema": ("json_schema",),
    "latency_ms_below": ("latency_ms_below",),
    "exit_code": ("exit_code",),
    "answered": ("answered",),
    "answered_by": ("answered_by",),
    "duration_s_below": ("duration_s_below", "duration_s_above"),
    "agent_says": ("agent_says",),
    "agent_never_says": ("agent_never_says",),
    "first_word_ms_below": ("first_word_ms_below",),
    "turn_latency_p90_ms_below": ("turn_latency_p90_ms_below",),
    "judge": ("judge",),
    "barge_in_stop_ms_below": ("barge_in_stop_ms_below",),
    "talk_over_count_max": ("talk_over_count_max",),
    "late_answer_count_max": ("late_answer_count_max",),
    "contains": ("contains", "not_contains", "regex", "equals"),
}
KNOWN_CHECK_KEYS = tuple(key for keys in _PRIMARY_KEYS.values() for key in keys)


# Each primary key's tag and its rank: the first tag in ``_PRIMARY_KEYS`` order that has a key in the
# check wins, found with one pass over the check's few keys rather than over every tag's.
_TAG_OF_KEY = {key: (rank, tag) for rank, (tag, keys) in enumerate(_PRIMARY_KEYS.items()) for key in keys}


def _check_tag(value: Any) -> str | None:
    if isinstance(value, CheckBase):
        return value.primary
    if isinstance(value, dict):
        found = [_TAG_OF_KEY[key] for key in value if key in _TAG_OF_KEY]
        return min(found)[1] if found else None
    return None


Check = Annotated[
    Annotated[StatusCheck, Tag("status")]
    | Annotated[HeaderCheck, Tag("header")]
    | Annotated[JsonPathCheck, Tag("jsonpath")]
    | Annotated[JsonSchemaCheck, Tag("json_schema")]
    | Annotated[LatencyCheck, Tag("latency_ms_below")]
    | Annotated[ExitCodeCheck, Tag("exit_code")]
    | Annotated[AnsweredCheck, Tag("answered")]
    | Annotated[AnsweredByCheck, Tag("answered_by")]
    | Annotated[DurationCheck, Tag("duration_s_below")]
    | Annotated[AgentSaysCheck, Tag("agent_says")]
    | Annotated[AgentNeverSaysCheck, Tag("agent_never_says")]
    | Annotated[FirstWordCheck, Tag("first_word_ms_below")]
    | Annotated[TurnLatencyCheck, Tag("turn_latency_p90_ms_below")]
    | Annotated[JudgeCheck, Tag("judge")]
    | Annotated[BargeInStopCheck, Tag("barge_in_stop_ms_below")]
    | Annotated[TalkOverCheck, Tag("talk_over_count_max")]
    | Annotated[LateAnswerCheck, Tag("late_answer_count_max")]
    | Annotated[BodyCheck, Tag("contains")],
    Discriminator(
        _check_tag,
        custom_error_type="unknown_check",
        custom_error_message="unknown check: a check is a table with one of " + ", ".join(KNOWN_CHECK_KEYS),
    ),
]
"""Any check; the model is chosen by the primary key present in the table."""


def checks_for(kind: str, *, judge: bool = True) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` for a list of checks in a test of ``kind``: the OpenAPI document offers
    only the checks that apply to it (the others are refused naming the kind); ``judge=False`` leaves
    out judge checks too (they read the whole conversation, not one turn)."""
    names = {
        model.__name__
        for model in CHECK_MODELS
        if kind in model.applies_to and (judge or model is not JudgeCheck)
    }

    def narrow(schema: dict[str, Any]) -> None:
        items = schema["items"]
        # A reference names the model among other parts: the module while pydantic builds the
        # schema, and FastAPI's -Input/-Output.
        items["oneOf"] = [ref for ref in items["oneOf"] if names & set(re.split(r"__|-|/", ref["$ref"]))]

    return narrow
