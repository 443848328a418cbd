"""The scripted caller as TwiML: what Twilio plays into the call on our side."""

from __future__ import annotations

import math
from collections.abc import Sequence

from twilio.twiml.voice_response import VoiceResponse

from callboard.core.models import CallerStep


def caller_twiml(steps: Sequence[CallerStep]) -> str:
    """The ``<Response>`` document for the caller's steps, in order.

    say → ``<Say>`` (with voice and language), pause → ``<Pause length>``, play → ``<Play>url``,
    digits → ``<Play digits>`` (DTMF), hangup → ``<Hangup/>``. Without a hangup step the call ends when
    the script runs out, as Twilio ends a call whose TwiML is done.
    """
    response = VoiceResponse()
    for step in steps:
        if step.say is not None:
            response.say(step.say, voice=step.voice, language=step.language)
        elif step.pause is not None:
            # Twilio's Pause takes whole seconds; rounding up never cuts the agent's reply short.
            response.pause(length=math.ceil(step.pause))
        elif step.play is not None:
            response.play(step.play)
        elif step.digits is not None:
            response.play(digits=step.digits)
        elif step.hangup:
            response.hangup()
    return str(response)
