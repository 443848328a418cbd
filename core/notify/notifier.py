"""The notifier: announces finished batches on every channel whose policy wants it, in the background.

A notification never affects its batch: sends run as tasks, failures are logged and retried with capped
exponential backoff, and nothing raises into the caller. Log lines name a channel by kind and host only
(``webhook #1 (hooks.slack.com)``): webhook URLs and passwords are secrets.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from urllib.parse import urlsplit

from callboard.core.notify.base import NotifyError, Sender
from callboard.core.notify.command import CommandSender
from callboard.core.notify.mail import EmailSender
from callboard.core.notify.settings import NotifySettings, When
from callboard.core.notify.summary import BatchSummary, should_notify
from callboard.core.notify.webhook import WebhookSender

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 10.0
REDACTED = "***"


@dataclass(frozen=True, slots=True)
class Channel:
    """One configured destination: a name safe to log, its policy and its sender."""

    label: str
    when: When
    sender: Sender


class Notifier:
    """Sends batch summaries to the configured webhooks, email and command hooks."""

    def __init__(self, settings: NotifySettings, close_timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        self._settings = settings
        self._close_timeout_s = close_timeout_s
        self._channels = build_channels(settings)
        self._secrets = _secrets(settings)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def has_channels(self) -> bool:
        """Whether any channel is configured (without one there is nothing to follow events for)."""
        return bool(self._channels)

    async def batch_finished(self, summary: BatchSummary) -> None:
        """Start delivering ``summary`` wherever policy wants it; returns at once and never raises."""
        for channel in self._channels:
            # Belt and braces: whatever goes wrong here is the notifier's problem, never the batch's.
            try:
                if should_notify(channel.when, summary):
                    task = asyncio.create_task(self._deliver(channel, summary))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except Exception as exc:
                log.error("%s: cannot start a notification: %s", channel.label, self._describe(exc))

    async def aclose(self) -> None:
        """Wait (bounded) for deliveries under way, retries included; cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._close_timeout_s)
        if not pending:
            return
        log.warning("abandoning %d notification(s) still under way at shutdown", len(pending))
        for task in pending:
            task.cancel()
        # Let cancellation run its cleanup (a command hook kills its process group).
        await asyncio.wait(pending, timeout=1.0)

    async def _deliver(self, channel: Channel, summary: BatchSummary) -> None:
        attempts = self._settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                await channel.sender.send(summary)
            except Exception as exc:
                reason = self._describe(exc)
                if attempt == attempts:
                    log.error(
                        "%s: giving up on the notification for batch %d after %d attempt(s): %s",
                        channel.label,
                        summary.batch_id,
                        attempts,
                        reason,
                    )
                    return
                delay = backoff_s(attempt, self._settings.retry_base_s, self._settings.retry_max_s)
                log.warning(
                    "%s: notification for batch %d failed (attempt %d of %d), retrying in %.1fs: %s",
                    channel.label,
                    summary.batch_id,
                    attempt,
                    attempts,
                    delay,
                    reason,
                )
                await asyncio.sleep(delay)
            else:
                log.info("%s: notified batch %d (attempt %d)", channel.label, summary.batch_id, attempt)
                return

    def _describe(self, exc: BaseException) -> str:
        # Senders word their errors without secrets; anything else is scrubbed of every configured one.
        text = str(exc) if isinstance(exc, NotifyError) else f"{type(exc).__name__}: {exc}"
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def build_channels(settings: NotifySettings) -> list[Channel]:
    """One channel per configured webhook, email and command hook, with its effective policy."""
    channels = [
        Channel(f"webhook #{index} ({hook.host})", hook.when or settings.when, WebhookSender(hook))
        for index, hook in enumerate(settings.webhooks, 1)
    ]
    if settings.email is not None:
        email = settings.email
        channels.append(Channel(f"email ({email.host})", email.when or settings.when, EmailSender(email)))
    for index, hook in enumerate(settings.commands, 1):
        sender = CommandSender(hook)
        channels.append(Channel(f"command #{index} ({sender.program})", hook.when or settings.when, sender))
    return channels


def backoff_s(attempt: int, base_s: float, max_s: float) -> float:
    """The wait after failed attempt ``attempt`` (1-based): doubling from ``base_s``, capped at ``max_s``,
    with jitter so channels failing together do not retry in lockstep."""
    delay = min(max_s, base_s * 2 ** (attempt - 1))
    return random.uniform(delay / 2, delay)


def _secrets(settings: NotifySettings) -> list[str]:
    secrets = []
    for hook in settings.webhooks:
        url = hook.url.get_secret_value()
        parts = urlsplit(url)
        # The path and query alone too: an error may quote the URL re-encoded, or only its tail.
        secrets += [url, parts.path + (f"?{parts.query}" if parts.query else "")]
    if settings.email is not None and settings.email.password is not None:
        secrets.append(settings.email.password.get_secret_value())
    # Longest first, so a URL is replaced whole before its tail; a bare "/" would garble every message.
    return sorted({secret for secret in secrets if len(secret) > 1}, key=len, reverse=True)
