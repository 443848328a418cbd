"""The ``[twilio]`` settings: one model, read by the config (``Settings.twilio``) and by the telephony
code (the call executor, ``CallFlow``).

It lives here, beside its users, because executors may not import ``callboard.core.config``; the config
imports it instead. It imports nothing but pydantic, so loading the config does not load twilio.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

_HTTP_URL = r"^https?://[^\s/]+(/\S*)?$"


class TwilioSettings(BaseModel):
    """Placing calls: credentials (account SID + auth token, or API key + secret), where Twilio's two APIs
    are (Twilio or the simulator), transcription, recording channels and call timing."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr | None = None
    api_key: str | None = Field(default=None, pattern=r"^SK[0-9a-fA-F]{32}$")
    api_secret: SecretStr | None = None
    from_number: str | None = Field(default=None, pattern=r"^\+[1-9]\d{1,14}$")
    api_base_url: str = Field(default="https://api.twilio.com", pattern=_HTTP_URL)
    intelligence_base_url: str = Field(default="https://intelligence.twilio.com", pattern=_HTTP_URL)
    intelligence_service_sid: str | None = Field(default=None, pattern=r"^GA[0-9a-fA-F]{32}$")
    caller_channel: int = Field(default=1, ge=1, le=2)
    agent_channel: int = Field(default=2, ge=1, le=2)
    poll_initial_s: float = Field(default=1.0, gt=0, le=60)
    poll_max_s: float = Field(default=5.0, gt=0, le=300)
    default_time_limit_s: int = Field(default=600, ge=1, le=14_400)
    # After the call: its own budget for the recording, the transcript (within that, its own deadline)
    # and the price, so a call that runs to its time limit still gets its recording and checks.
    post_call_timeout_s: float = Field(default=300.0, gt=0, le=3600)
    transcript_timeout_s: float = Field(default=240.0, gt=0, le=3600)
    price_wait_s: float = Field(default=30.0, ge=0, le=600)
    ring_timeout_s: int = Field(default=30, ge=5, le=600)
    cps: float = Field(default=1.0, gt=0, le=1000)
    max_concurrent_calls: int | None = Field(default=10, ge=1, le=10_000)
    batch_max_calls: int | None = Field(default=None, ge=1)
    batch_max_minutes: float | None = Field(default=None, gt=0)
    allowed_numbers: list[Annotated[str, Field(pattern=r"^\+\d{1,15}$")]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> TwilioSettings:
        if self.caller_channel == self.agent_channel:
            raise ValueError("caller_channel and agent_channel must differ")
        if self.poll_max_s < self.poll_initial_s:
            raise ValueError("poll_max_s must be at least poll_initial_s")
        return self
