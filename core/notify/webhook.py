"""Webhook sender: the summary POSTed as JSON, or as a Slack-compatible ``{"text": ...}`` message.

aiohttp rather than httpx: httpx logs every request URL at INFO, and a webhook URL holds its token.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from callboard.core.execution.http_errors import connection_failure
from callboard.core.notify.base import NotifyError
from callboard.core.notify.settings import WebhookSettings
from callboard.core.notify.summary import BatchSummary, short

SLACK_LISTED_FAILING = 20


class WebhookSender:
    """POSTs one summary to one URL; anything but a 2xx answer is a failure."""

    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings

    async def send(self, summary: BatchSummary) -> None:
        """POST the summary, raising NotifyError unless the endpoint answers 2xx."""
        body = slack_payload(summary) if self._settings.format == "slack" else summary.as_dict()
        host = self._settings.host
        url = self._settings.url.get_secret_value()
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                # A redirect would re-send the summary somewhere the config does not name.
                session.post(url, json=body, allow_redirects=False) as reply,
            ):
                status = reply.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NotifyError(f"POST to {host} failed: {_describe(exc)}") from None
        if not 200 <= status < 300:
            raise NotifyError(f"{host} answered HTTP {status}")


def slack_payload(summary: BatchSummary) -> dict[str, Any]:
    """A message Slack (and Mattermost, Discord's /slack endpoint…) shows: a headline, the failing tests."""
    return {"text": slack_text(summary)}


def slack_text(summary: BatchSummary) -> str:
    """The summary in Slack mrkdwn: one line with the results, then the failing tests."""
    icon = ":x:" if summary.has_failures else ":warning:" if summary.dropped else ":white_check_mark:"
    lines = [
        f"{icon} *callboard* batch *{_escape(summary.label)}* (#{summary.batch_id}) "
        f"{_escape(summary.status)}: {_escape(summary.results())}"
    ]
    head, omitted = summary.failing_head(SLACK_LISTED_FAILING)
    if head:
        lines.append("*Failing:*")
        lines.extend(f"• {_code(test.name)} — {_escape(short(test.reason))}" for test in head)
    if omitted:
        lines.append(f"_…and {omitted} more_")
    if summary.report_hint:
        lines.append(f"Report: {_code(summary.report_hint)}")
    return "\n".join(lines)


def _escape(text: str) -> str:
    # Slack's mrkdwn needs exactly these three escaped; anything else shows as typed.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    # A backtick would end the code span early.
    return "`" + _escape(text.replace("`", "'")) + "`"


def _describe(exc: BaseException) -> str:
    # A response error's str() quotes the URL and an InvalidURL is the URL itself: those go by type only.
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__} (HTTP {exc.status}: {exc.message})"
    if isinstance(exc, aiohttp.InvalidURL | TimeoutError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {connection_failure(exc)}"
