"""Email sender: a plain-text message over SMTP, with STARTTLS and login.

The standard library's smtplib in a worker thread, so notifications add no runtime dependency.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from callboard.core.notify.base import NotifyError
from callboard.core.notify.settings import EmailSettings
from callboard.core.notify.summary import BatchSummary, short

EMAIL_LISTED_FAILING = 50


class EmailSender:
    """Mails one summary to the configured recipients."""

    def __init__(self, settings: EmailSettings) -> None:
        self._settings = settings

    async def send(self, summary: BatchSummary) -> None:
        """Send the message, raising NotifyError when the server cannot be reached or refuses it."""
        message = build_message(self._settings, summary)
        try:
            await asyncio.to_thread(self._deliver, message)
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
            where = f"{self._settings.host}:{self._settings.port}"
            raise NotifyError(f"SMTP to {where} failed: {type(exc).__name__}: {exc}") from None

    def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                # Raises when the server does not offer STARTTLS: no silent fall back to clear text.
                smtp.starttls(context=self._tls_context())
            if settings.username is not None and settings.password is not None:
                smtp.login(settings.username, settings.password.get_secret_value())
            smtp.send_message(message)

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self._settings.ca_file)
        if not self._settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def build_message(settings: EmailSettings, summary: BatchSummary) -> EmailMessage:
    """The email: the headline as subject, the details as a plain-text body."""
    message = EmailMessage()
    # One line: a label with a line break must not end the header early.
    message["Subject"] = " ".join(f"[callboard] {summary.headline()}".split())
    message["From"] = settings.from_addr
    message["To"] = ", ".join(settings.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.from_addr.rpartition("@")[2])
    message.set_content(plain_text(summary))
    return message


def plain_text(summary: BatchSummary) -> str:
    """The summary as a plain-text email body."""
    lines = [summary.headline(), ""]
    lines.append(f"Source:    {summary.source}")
    if summary.schedule_name or summary.schedule_id is not None:
        schedule_id = f" (#{summary.schedule_id})" if summary.schedule_id is not None else ""
        lines.append(f"Schedule:  {summary.schedule_name or ''}{schedule_id}".rstrip())
    if summary.finished_at is not None:
        lines.append(f"Finished:  {summary.finished_at.isoformat(sep=' ', timespec='seconds')}")
    lines.append(
        f"Total {summary.total}: passed {summary.passed}, failed {summary.failed}, errors {summary.error}, "
        f"cancelled {summary.cancelled}, skipped {summary.skipped}"
    )
    head, omitted = summary.failing_head(EMAIL_LISTED_FAILING)
    if head:
        lines += ["", "Failing tests:"]
        lines.extend(f"  - {test.name}: {short(test.reason)}" for test in head)
    if omitted:
        lines.append(f"  … and {omitted} more")
    if summary.report_hint:
        lines += ["", f"Report: {summary.report_hint}"]
    return "\n".join(lines) + "\n"
