"""The telephony simulator: the part of Twilio's REST API that callboard uses, on localhost.

It serves ``api.twilio.com/2010-04-01`` (Calls, a call's Recordings, Recording metadata and media) and
``intelligence.twilio.com/v2`` (Transcripts, Sentences) from one app, with Twilio's JSON shapes, SIDs
and error bodies, in accelerated time (``time_scale`` real seconds per simulated second).

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
+15555550100     clinic receptionist (the number the bundled examples dial)
anything else    refused at creation: HTTP 400, Twilio error 21215 (geo permissions)
===============  =====================================================================================

The receptionist's replies are keyword-driven and deterministic (see ``personas``). The caller is the
inline ``Twiml`` (Say, Pause, Play, Play digits, Hangup; see ``twiml``). On dual-channel recordings the
transcript puts the caller on media_channel 1 and the agent on 2. Caps: ``cps`` (token bucket, real
time) and ``max_concurrent_calls``; over either → HTTP 429 with Twilio error 20429.
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
