"""The ``call`` executor: phones the agent through Twilio (or the simulator) and judges the call.

How an unanswered call ends (busy, no-answer, failed, canceled): when the test has an ``answered`` check,
the run is judged — ``answered = true`` fails with the status as its actual value (``answered = false``
passes), and every other check fails as not evaluable. Without an ``answered`` check the run ends in
``error`` with kind ``call_<status>`` (``call_busy``, ``call_no_answer``, ...): nothing the test asked
about could be looked at. Twilio's Call resource carries no error code; codes Twilio gives when it
refuses to place a call end up in the error kind (``twilio_21215``) and message.
"""

from __future__ import annotations

from callboard.core.checks.call_checks import CallObservation, evaluate_call_checks, transcript_metrics
from callboard.core.checks.turns import analyse_turns
from callboard.core.execution.base import Job, Outcome, RunError
from callboard.core.models import CallTest
from callboard.core.models.checks import AnsweredCheck
from callboard.core.telephony.call_flow import CallFlow, CallReport
from callboard.core.telephony.http_client import HttpxTwilioClient
from callboard.core.telephony.options import build_client, missing_settings
from callboard.core.telephony.polling import Poller
from callboard.core.telephony.settings import TwilioSettings
from callboard.core.telephony.voice import TwilioVoice


class CallExecutor:
    """Runs call tests with the ``[twilio]`` settings; one connection pool for every call."""

    kind = "call"

    def __init__(self, settings: TwilioSettings, http_client: HttpxTwilioClient | None = None) -> None:
        """``http_client`` replaces the one built from the settings' base URLs (tests)."""
        self._settings = settings
        self._http = http_client or HttpxTwilioClient(settings.api_base_url, settings.intelligence_base_url)
        self._flow: CallFlow | None = None

    async def execute(self, job: Job) -> Outcome:
        """Place (or resume) the call, wait for its end, its recording and transcript; judge it."""
        test = job.test
        if not isinstance(test, CallTest):
            raise RunError("internal", f"the call executor cannot run a {test.kind} test")
        if not test.phone and job.external_id is None and job.dial_intent is None:
            raise RunError("config", "the test has no phone number")
        report = await self._ready_flow().run(job, test)
        return _outcome(test, report)

    async def aclose(self) -> None:
        """Let hang-ups in progress finish, then close the connection pool."""
        if self._flow is not None:
            await self._flow.drain()
        await self._http.close()

    def _ready_flow(self) -> CallFlow:
        # Checked per run, not at start-up: a daemon without Twilio settings still runs every other kind.
        missing = missing_settings(self._settings)
        if missing:
            raise RunError(
                "config",
                f"call tests need Twilio settings: {', '.join(missing)} not set "
                "(in the config file's [twilio] section, or CALLBOARD_TWILIO__<KEY> in the environment)",
            )
        if self._flow is None:
            settings = self._settings
            voice = TwilioVoice(build_client(settings, self._http), settings.api_base_url)
            self._flow = CallFlow(voice, settings, Poller(settings.poll_initial_s, settings.poll_max_s))
        return self._flow


def _outcome(test: CallTest, report: CallReport) -> Outcome:
    call = report.call
    observation = CallObservation(
        status=call.status,
        answered_by=call.answered_by,
        duration_s=call.duration_s,
        machine_detection=test.machine_detection,
        transcript=report.transcript,
        no_transcript=report.no_transcript,
    )
    if not observation.answered and not any(isinstance(check, AnsweredCheck) for check in test.checks):
        raise RunError(
            "call_" + call.status.replace("-", "_"),
            f"the call was not answered: {call.status} (call {call.sid}); "
            "add { answered = false } to expect that",
        )
    metrics: dict[str, float] = {}
    if call.duration_s is not None:
        metrics["duration_s"] = call.duration_s
    if call.price is not None:
        metrics["price"] = call.price
    if report.transcript is not None:
        metrics.update(transcript_metrics(report.transcript))
    artifacts = {"call_sid": call.sid, "call_status": call.status}
    if call.answered_by is not None:
        artifacts["answered_by"] = call.answered_by
    if report.recording is not None:
        artifacts["recording_sid"] = report.recording.sid
        artifacts["recording_url"] = report.recording.media_url
    if report.no_transcript and observation.answered:
        artifacts["transcript_note"] = report.no_transcript
    if report.channels is not None:
        artifacts["agent_channel"] = str(report.channels.agent)
        artifacts["channel_mapping"] = report.channels.describe()
        artifacts["channel_mapping_confidence"] = f"{report.channels.confidence:g}"
    if report.transcript is not None:
        late = analyse_turns(report.transcript).late_note()
        if late:
            artifacts["late_answers"] = late
    return Outcome(
        checks=evaluate_call_checks(test.checks, observation),
        metrics=metrics,
        transcript=report.transcript or [],
        artifacts=artifacts,
    )
