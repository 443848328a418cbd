"""The telephony simulator: the part of Twilio's REST API that callboard uses, on localhost.

It serves ``api.twilio.com/2010-04-01`` (Calls, a call's Recordings, Recording metadata and media) and
``intelligence.twilio.com/v2`` (Transcripts, Sentences) from one app, with Twilio's JSON shapes, SIDs
and error bodies, in real time or faster (``time_scale`` real seconds per simulated second; 1 by default).

Numbers (``SimulatorConfig.numbers``; every entry can be replaced):

===============  =====================================================================================
+15550100001     clinic receptionist: rings 2 s, greets after 0.8 s, answers each utterance after 1 s
+15550100002     busy (after 1 s of ringing)
+15550100003     no-answer: rings until the call's Timeout (default 60 s)
+15550100004     failed, error 13224 (shown by /_sim/calls; the Call resource has no error field)
+15550100005     voicemail: rings 4 s, a machine greeting and a beep; AnsweredBy machine_end_beep
                 (MachineDetection=DetectMessageEnd) or machine_start (Enable)
+15550100006     slow clinic receptionist: rings 4 s, first word after 4 s, answers after 3.5 s
+15550100007     clinic receptionist that hangs up 8 s after answering
+15550100008     answers and never speaks (AnsweredBy unknown when detection is asked for)
+15550100009     clinic receptionist whose Voice Intelligence transcripts end in ``error``
+15550100010     clinic receptionist with a short greeting (AMD: human; the usual 8 s one is a machine)
+15555550100     clinic receptionist (the number the bundled examples dial)
anything else    refused at creation: HTTP 400, Twilio error 21215 (geo permissions)
===============  =====================================================================================

The receptionist's replies are keyword-driven and deterministic (see ``personas``). The caller is the
inline ``Twiml`` (Say, Pause, Play, Play digits, Hangup; other verbs are refused, see ``twiml``).

Where Twilio's behaviour hides defects, the simulator follows it (each module cites the document):
recordings are trimmed of leading and trailing silence unless ``Trim=do-not-trim`` (``recordings``);
calls over ``cps`` wait in the account's queue (``state``; ``cps_excess="reject"`` answers 429 / 20429
instead) while ``max_concurrent_calls`` answers 429 / 20429; ``price`` appears ``price_delay_s`` after the
end (``calls``); one transcript per recording, listed by ``SourceSid`` and deletable, optionally made
automatically (``transcript_book``); answering machine detection by Twilio's thresholds (``amd``); the
agent on ``agent_channel`` of a dual-channel recording (2 unless configured). Fault hooks for tests:
``create_hold_s`` holds a create before the call is placed, ``create_answer_hold_s`` after.
"""

from callboard.core.simulator.app import create_app
from callboard.core.simulator.config import DEFAULT_NUMBERS, NumberBehaviour, SimulatorConfig
from callboard.core.simulator.server import run_simulator, simulator_process, simulator_thread

__all__ = [
    "DEFAULT_NUMBERS",
    "NumberBehaviour",
    "SimulatorConfig",
    "create_app",
    "run_simulator",
    "simulator_process",
    "simulator_thread",
]
