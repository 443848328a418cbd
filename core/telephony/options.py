"""Whether the ``[twilio]`` settings are enough to place a call, and the twilio client made from them."""

from __future__ import annotations

from twilio.rest import Client

from callboard.core.telephony.http_client import HttpxTwilioClient
from callboard.core.telephony.settings import TwilioSettings


def missing_settings(options: TwilioSettings) -> list[str]:
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


def build_client(options: TwilioSettings, http_client: HttpxTwilioClient) -> Client:
    """twilio's REST client authenticated from the settings (call ``missing_settings`` first)."""
    if options.api_key and options.api_secret:
        username, password = options.api_key, options.api_secret.get_secret_value()
    else:
        assert options.auth_token is not None
        username, password = str(options.account_sid), options.auth_token.get_secret_value()
    return Client(username, password, account_sid=options.account_sid, http_client=http_client)
