"""Finding the call an interrupted create placed, from its dial intent.

The daemon commits a dial intent (to, from, when) before every create and the call SID right after. A
run found after a restart with an intent but no SID may or may not have reached Twilio; it is resolved
by listing the account's calls from that number to that number around the intent's time (the Calls list
filters by To, From and StartTime) — never by dialling again.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import timedelta

from callboard.core.models.dial_intent import DialIntent
from callboard.core.telephony.polling import Poller
from callboard.core.telephony.voice import CallState, TwilioVoice

# Twilio's clock and this machine's may disagree a little; a call created this long before the intent
# still counts.
CLOCK_SKEW = timedelta(seconds=60)


async def find_placed_call(
    voice: TwilioVoice, poller: Poller, intent: DialIntent, claimed: Set[str], taken: Set[str] = frozenset()
) -> str | None:
    """The SID of the call the intent placed: the one created closest to the intent's time among the
    calls to ``intent.to`` from ``intent.from_`` not claimed by another run (``claimed``: this process's,
    read when the calls are listed; ``taken``: other runs' anywhere); None when there is none."""
    found: list[CallState] = await poller.until(
        lambda: voice.find_calls(intent.to, intent.from_, intent.at - CLOCK_SKEW),
        lambda _: True,
        f"calls to {intent.to}",
    )
    candidates = [
        call
        for call in found
        if call.sid not in claimed and call.sid not in taken and call.created is not None
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda call: abs((call.created or intent.at) - intent.at))
    return best.sid
