"""The caller's script, read from the inline ``Twiml`` of a call.

Understood: ``<Say>`` (SSML inside is flattened to its text), ``<Pause length>``, ``<Play>url</Play>``
(caller audio nobody can transcribe), ``<Play digits>`` (DTMF; ``w`` waits half a second), ``<Hangup/>``.
``loop`` on Say/Play repeats them. Any other verb (``<Connect>``, ``<Gather>``, ``<Record>``, ``<Dial>``,
...) is refused rather than skipped, so a script never silently does less than it would on Twilio: the
create answers 400 with Twilio error 13750, "Twiml verb not supported"
(https://www.twilio.com/docs/api/errors/13750).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

StepKind = Literal["say", "pause", "play", "digits", "hangup"]
UNSUPPORTED_VERB_CODE = 13750
_DIGIT_S = 0.25
_DIGIT_WAIT_S = 0.5


class TwimlError(ValueError):
    """The Twiml could not be read."""


class UnsupportedVerb(TwimlError):
    """The Twiml uses a verb the simulator does not carry out."""


@dataclass(frozen=True)
class Step:
    """One thing the caller does: say ``text``, wait ``seconds``, play a URL or key in digits."""

    kind: StepKind
    text: str = ""
    seconds: float = 0.0


def parse_twiml(twiml: str) -> list[Step]:
    """The caller's steps, in order. Raises TwimlError for XML that is not a ``<Response>``."""
    try:
        # ElementTree never fetches external entities and expat refuses entity-expansion bombs.
        root = ET.fromstring(twiml)
    except ET.ParseError as exc:
        raise TwimlError(f"the Twiml is not well-formed XML: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"the Twiml's root element must be <Response>, not <{root.tag}>")
    steps: list[Step] = []
    _read_verbs(root, steps)
    return steps


def digits_seconds(digits: str) -> float:
    """How long keying in ``digits`` takes."""
    return sum(_DIGIT_WAIT_S if char in "wW" else _DIGIT_S for char in digits)


def _read_verbs(parent: ET.Element, steps: list[Step]) -> None:
    """Append the steps under ``parent``, up to a ``<Hangup>``; raises UnsupportedVerb for other verbs."""
    for verb in parent:
        repeat = _loop(verb)
        if verb.tag == "Say":
            text = " ".join("".join(verb.itertext()).split())
            steps.extend([Step("say", text=text)] * repeat if text else [])
        elif verb.tag == "Pause":
            steps.append(Step("pause", seconds=_number(verb.get("length"), default=1.0)))
        elif verb.tag == "Play" and verb.get("digits"):
            digits = verb.get("digits", "")
            steps.append(Step("digits", text=digits, seconds=digits_seconds(digits)))
        elif verb.tag == "Play":
            steps.extend([Step("play", text=(verb.text or "").strip())] * repeat)
        elif verb.tag == "Hangup":
            steps.append(Step("hangup"))
            return
        else:
            raise UnsupportedVerb(
                f"Twiml verb not supported: <{verb.tag}> (the telephony simulator carries out "
                "<Say>, <Pause>, <Play> and <Hangup> only)"
            )


def _loop(verb: ET.Element) -> int:
    # loop="0" means "forever" on Twilio; once is the useful reading for a finite script.
    return max(1, int(_number(verb.get("loop"), default=1.0)))


def _number(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise TwimlError(f"expected a number, got {value!r}") from exc
    if not math.isfinite(number) or number < 0:
        raise TwimlError(f"expected a non-negative number, got {value!r}")
    return number
