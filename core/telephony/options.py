"""What the telephony code reads from the ``[twilio]`` settings, and the twilio client made from it.

``TwilioOptions`` is a protocol rather than the settings class itself: executors may not import
``callboard.core.config`` (a layer contract), and ``TwilioSettings`` fits the protocol as it is.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import SecretStr
from twilio.rest import Client

from callboard.core.telephony.http_client import HttpxTwilioClient


class TwilioOptions(Protocol):
    """The ``[twilio]`` settings a call test uses (see config.example.toml)."""

    @property
    def account_sid(self) -> str | None: ...
    @property
    def auth_token(self) -> SecretStr | None: ...
    @property
    def api_key(self) -> str | None: ...
    @property
    def api_secret(self) -> SecretStr | None: ...
    @property
    def from_number(self) -> str | None: ...
    @property
    def api_base_url(self) -> str: ...
    @property
    def intelligence_base_url(self) -> str: ...
    @property
    def intelligence_service_sid(self) -> str | None: ...
    @property
    def caller_channel(self) -> int: ...
    @property
    def agent_channel(self) -> int: ...
    @property
    def poll_initial_s(self) -> float: ...
    @property
    def poll_max_s(self) -> float: ...
    @property
    def default_time_limit_s(self) -> int: ...
    @property
    def ring_timeout_s(self) -> int: ...
    @property
    def post_call_timeout_s(self) -> float: ...
    @property
    def transcript_timeout_s(self) -> float: ...
    @property
    def price_wait_s(self) -> float: ...


def missing_settings(options: TwilioOptions) -> list[str]:
    """The settings keys a call needs that are not set, e.g. ``["twilio.auth_token"]``; empty when ready.

    An account SID is always needed (it is in every API path); the secret is the auth token, or an API
    key with its secret.
    """
    missing = [] if options.account_sid else ["twilio.account_sid"]
    if options.api_key or options.api_secret:
        missing += [] if options.api_key else ["twilio.api_key"]
        missing += [] if options.api_secret else ["twilio.api_secret"]
    elif not options.auth_token:
        missing.append("twilio.auth_token")
    if not options.from_number:
        missing.append("twilio.from_number")
    return missing


def build_client(options: TwilioOptions, http_client: HttpxTwilioClient) -> Client:
    """twilio's REST client authenticated from the settings (call ``missing_settings`` first)."""
    if options.api_key and options.api_secret:
        username, password = options.api_key, options.api_secret.get_secret_value()
    else:
        assert options.auth_token is not None
        username, password = str(options.account_sid), options.auth_token.get_secret_value()
    return Client(username, password, account_sid=options.account_sid, http_client=http_client)
