"""Placing and judging phone calls through Twilio's REST and Voice Intelligence APIs.

The twilio library does the talking (``twilio.rest.Client`` and its ``*_async`` methods) over
``HttpxTwilioClient``, which sends Twilio's two domains to configurable base URLs, so the same code runs
against Twilio or the telephony simulator. ``CallFlow`` takes one call test from dial to transcript;
``callboard.core.executors.call.CallExecutor`` turns its report into checks, metrics and artifacts.
"""

from callboard.core.telephony.call_flow import CallFlow, CallReport, FlowSettings
from callboard.core.telephony.caller_twiml import caller_twiml
from callboard.core.telephony.http_client import HttpxTwilioClient, last_response_headers
from callboard.core.telephony.options import TwilioOptions, build_client, missing_settings
from callboard.core.telephony.polling import Poller, PollTimeout
from callboard.core.telephony.voice import CallRequest, CallState, Recording, Sentence, TwilioVoice

__all__ = [
    "CallFlow",
    "CallReport",
    "CallRequest",
    "CallState",
    "FlowSettings",
    "HttpxTwilioClient",
    "PollTimeout",
    "Poller",
    "Recording",
    "Sentence",
    "TwilioOptions",
    "TwilioVoice",
    "build_client",
    "caller_twiml",
    "last_response_headers",
    "missing_settings",
]
