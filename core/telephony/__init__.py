"""Placing and judging phone calls through Twilio's REST and Voice Intelligence APIs.

The twilio library does the talking (``twilio.rest.Client`` and its ``*_async`` methods) over
``HttpxTwilioClient``, which sends Twilio's two domains to configurable base URLs, so the same code runs
against Twilio or the telephony simulator. ``CallFlow`` takes one call test from dial to transcript;
``callboard.core.executors.call.CallExecutor`` turns its report into checks, metrics and artifacts.

The names below are loaded on first use: the config imports ``telephony.settings``, and loading the
config must not load the twilio library.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "CallFlow": "call_flow",
    "CallReport": "call_flow",
    "HttpxTwilioClient": "http_client",
    "last_response_headers": "http_client",
    "build_client": "options",
    "missing_settings": "options",
    "Poller": "polling",
    "PollTimeout": "polling",
    "TwilioSettings": "settings",
    "CallRequest": "voice",
    "CallState": "voice",
    "Recording": "voice",
    "Sentence": "voice",
    "TwilioVoice": "voice",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
