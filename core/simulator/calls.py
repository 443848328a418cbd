"""A simulated call: its planned lifecycle, hang-ups, and its Twilio JSON.

The whole life of a call is planned when it is created (when it rings, is answered, ends, and how); its
status at any moment is read off that plan. Cancelling or hanging up re-plans the end. Nothing runs in the
background.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from callboard.core.simulator.amd import AmdOptions
from callboard.core.simulator.clock import SimClock, formatted_number
from callboard.core.simulator.config import NumberBehaviour, SimulatorConfig
from callboard.core.simulator.conversation import Conversation

API_VERSION = "2010-04-01"
_SUBRESOURCES = (
    "notifications",
    "recordings",
    "payments",
    "events",
    "siprec",
    "streams",
    "transcriptions",
    "user_defined_message_subscriptions",
    "user_defined_messages",
)


@dataclass(frozen=True)
class CallRequest:
    """The parameters of a create-call request that the simulation uses."""

    to: str
    from_: str
    record: bool
    dual_channel: bool
    timeout_s: int
    time_limit_s: int
    amd: AmdOptions = field(default_factory=AmdOptions)
    # Trim=trim-silence (Twilio's default) cuts the recording's leading and trailing silence.
    trim: bool = True


@dataclass
class Call:
    """One call and its plan, in simulated seconds."""

    sid: str
    account_sid: str
    request: CallRequest
    behaviour: NumberBehaviour
    created: float
    ring_at: float | None
    answer_at: float | None
    end_at: float
    final_status: str
    conversation: Conversation | None
    recording_sid: str | None
    error_code: int | None = None
    # Simulated seconds spent in the account's CPS queue before dialling.
    cps_wait_s: float = 0.0

    def status(self, now: float) -> str:
        """The call's status at simulated time ``now``."""
        if now >= self.end_at:
            return self.final_status
        if self.answer_at is not None and now >= self.answer_at:
            return "in-progress"
        if self.ring_at is not None and now >= self.ring_at:
            return "ringing"
        return "queued"

    def is_active(self, now: float) -> bool:
        """Still queued, ringing or talking."""
        return now < self.end_at

    def duration_s(self) -> int:
        """Billed seconds: from answer to hang-up, rounded up; 0 for calls never answered."""
        if self.answer_at is None:
            return 0
        return math.ceil(max(self.end_at - self.answer_at, 0.0) - 1e-9)

    def end_now(self, now: float) -> None:
        """Hang up at ``now``: cancel if not answered yet, else complete with the talk so far."""
        if not self.is_active(now):
            return
        if self.answer_at is not None and now >= self.answer_at:
            self.final_status = "completed"
            if self.conversation is not None:
                self.conversation = self.conversation.until(now - self.answer_at)
        else:
            self.answer_at, self.conversation, self.recording_sid = None, None, None
            self.final_status = "canceled"
        self.end_at = now

    def started_at(self, now: float) -> float | None:
        """The call's start_time as of ``now``: when it was dialled, then when it was answered; None while
        queued (as Twilio shows it)."""
        if self.answer_at is not None and now >= self.answer_at:
            return self.answer_at
        return self.ring_at if self.status(now) != "queued" else None

    def updated_at(self, now: float) -> float:
        """When the status last changed, as seen at ``now``."""
        moments = [self.created, self.ring_at, self.answer_at, self.end_at]
        return max(moment for moment in moments if moment is not None and moment <= now)

    def to_json(self, clock: SimClock, now: float, config: SimulatorConfig) -> dict[str, Any]:
        """The call as Twilio's ``api.v2010.account.call`` JSON, as of ``now``.

        ``price`` stays null until ``price_delay_s`` after the end: the Call resource's ``price`` is
        "Populated after the call is completed. May not be immediately available." (Twilio's OpenAPI).
        """
        status = self.status(now)
        ended = not self.is_active(now)
        answered = self.answer_at is not None and now >= self.answer_at
        start = self.started_at(now)
        price = None
        if status == "completed" and now >= self.end_at + config.price_delay_s:
            price = _money(-config.price_per_minute * math.ceil(self.duration_s() / 60))
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "sid": self.sid,
            "date_created": clock.rfc2822(self.created),
            "date_updated": clock.rfc2822(self.updated_at(now)),
            "parent_call_sid": None,
            "account_sid": self.account_sid,
            "to": self.request.to,
            "to_formatted": formatted_number(self.request.to),
            "from": self.request.from_,
            "from_formatted": formatted_number(self.request.from_),
            "phone_number_sid": phone_number_sid(self.request.from_),
            "status": status,
            "start_time": clock.rfc2822(start),
            "end_time": clock.rfc2822(self.end_at) if ended else None,
            "duration": str(self.duration_s()) if ended else None,
            "price": price,
            "price_unit": "USD",
            "direction": "outbound-api",
            "answered_by": self.answered_by() if answered else None,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": str(round(((self.ring_at or self.end_at) - self.created) * 1000)),
            "trunk_sid": None,
            "uri": f"{base}.json",
            "subresource_uris": {name: f"{base}/{_camel(name)}.json" for name in _SUBRESOURCES},
        }

    def answered_by(self) -> str | None:
        """AnsweredBy, only when machine detection was asked for."""
        return self.conversation.answered_by if self.conversation is not None else None


def phone_number_sid(number: str) -> str:
    """A stable PN SID for a caller ID, as if the account owned that number."""
    return "PN" + hashlib.sha256(number.encode()).hexdigest()[:32]


def _money(amount: float) -> str:
    """Twilio's price strings: five decimals, e.g. ``-0.01300``."""
    # ``or 0.0`` turns -0.0 (a free zero-second call) into "0.00000" rather than "-0.00000".
    return str(Decimal(str(amount or 0.0)).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
