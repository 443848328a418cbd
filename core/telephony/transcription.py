"""Getting a recording's transcript from Voice Intelligence: the one it already has, or a new one.

Twilio keeps one transcript per recording, and a service with automatic transcription makes one for
every recorded call, so a transcript is looked up (``GET /v2/Transcripts?SourceSid=RE…``) before one is
created, and looked up again when the create fails (another request, or the service, made it first).
A transcript that ends ``failed``, ``error`` or ``canceled`` is finished; the wait for it has its own
deadline.
"""

from __future__ import annotations

import logging

from callboard.core.execution.base import RunError
from callboard.core.telephony.errors import describe, is_retryable
from callboard.core.telephony.polling import Poller, PollTimeout
from callboard.core.telephony.voice import TRANSCRIPT_DONE, Sentence, TwilioVoice

log = logging.getLogger(__name__)


class Transcription:
    """Finds or makes the transcript of a recording and reads its sentences."""

    def __init__(self, voice: TwilioVoice, poller: Poller, service_sid: str, timeout_s: float) -> None:
        self._voice = voice
        self._poller = poller
        self._service_sid = service_sid
        self._timeout_s = timeout_s

    async def sentences(self, recording_sid: str, call_sid: str) -> list[Sentence]:
        """Every sentence of the recording's transcript; RunError("no_transcript") when there is none
        within the deadline or it ended in failure."""
        try:
            sid = await self._existing_or_new(recording_sid, call_sid)
            status = await self._poller.until(
                lambda: self._voice.transcript_status(sid),
                lambda value: value in TRANSCRIPT_DONE,
                f"transcript {sid}",
                within_s=self._timeout_s,
            )
            if status != "completed":
                raise RunError("no_transcript", f"transcript {sid} ended {status}")
            return await self._poller.until(
                lambda: self._voice.sentences(sid), lambda _: True, f"sentences of transcript {sid}"
            )
        except PollTimeout:
            message = f"no finished transcript within {self._timeout_s:g} s (twilio.transcript_timeout_s)"
            raise RunError("no_transcript", message) from None
        except RunError:
            raise
        except Exception as exc:
            raise RunError("no_transcript", f"transcription failed: {describe(exc)}") from None

    async def _existing_or_new(self, recording_sid: str, call_sid: str) -> str:
        found = await self._lookup(recording_sid)
        if found is not None:
            return found
        try:
            return await self._voice.create_transcript(self._service_sid, recording_sid, call_sid)
        except Exception as exc:
            # Refused because one exists (Twilio's one-per-recording rule), or the answer was lost after
            # Twilio made it: either way the list now shows it.
            again = await self._lookup(recording_sid)
            if again is not None:
                log.info(
                    "transcript of %s: create failed (%s); using %s", recording_sid, describe(exc), again
                )
                return again
            if is_retryable(exc):
                return await self._poller.until(
                    lambda: self._voice.create_transcript(self._service_sid, recording_sid, call_sid),
                    lambda _: True,
                    f"transcript of recording {recording_sid}",
                    within_s=self._timeout_s,
                )
            raise

    async def _lookup(self, recording_sid: str) -> str | None:
        found = await self._poller.until(
            lambda: self._voice.transcripts_of(recording_sid),
            lambda _: True,
            f"transcripts of recording {recording_sid}",
        )
        return found[0].sid if found else None
