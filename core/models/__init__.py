"""Domain models shared by every layer. Imports nothing else from the project.

Each name is imported from its module on first use: a client that only follows batches (the CLI's
``run --wait``) then never builds the test-definition and check models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callboard.core.models.checks import Check, CheckBase
    from callboard.core.models.definitions import (
        CallerStep,
        CallTest,
        ChatEndpoint,
        CommandTest,
        ConversationTest,
        HttpRequest,
        HttpTest,
        SimulatedUserSpec,
        TestDefinition,
        Turn,
        VoiceTest,
        dump_test,
        parse_test,
    )
    from callboard.core.models.kinds import KINDS
    from callboard.core.models.outlines import TestOutline
    from callboard.core.models.runs import (
        FINAL_STATUSES,
        Batch,
        BatchCounts,
        BatchStatus,
        CheckResult,
        LastResult,
        Run,
        RunResult,
        RunStatus,
        StoredTest,
        TranscriptEntry,
        score,
    )
    from callboard.core.models.voice_steps import VoiceEndpoint, VoiceStep

_HOMES = {
    "Batch": "callboard.core.models.batches",
    "BatchCounts": "callboard.core.models.batches",
    "BatchStatus": "callboard.core.models.batches",
    "CallTest": "callboard.core.models.definitions",
    "CallerStep": "callboard.core.models.definitions",
    "ChatEndpoint": "callboard.core.models.definitions",
    "Check": "callboard.core.models.checks",
    "CheckBase": "callboard.core.models.checks",
    "CheckResult": "callboard.core.models.runs",
    "CommandTest": "callboard.core.models.definitions",
    "ConversationTest": "callboard.core.models.definitions",
    "FINAL_STATUSES": "callboard.core.models.batches",
    "HttpRequest": "callboard.core.models.definitions",
    "HttpTest": "callboard.core.models.definitions",
    "KINDS": "callboard.core.models.kinds",
    "LastResult": "callboard.core.models.runs",
    "Run": "callboard.core.models.runs",
    "RunResult": "callboard.core.models.runs",
    "RunStatus": "callboard.core.models.batches",
    "SimulatedUserSpec": "callboard.core.models.definitions",
    "StoredTest": "callboard.core.models.runs",
    "TestDefinition": "callboard.core.models.definitions",
    "TestOutline": "callboard.core.models.outlines",
    "TranscriptEntry": "callboard.core.models.runs",
    "Turn": "callboard.core.models.definitions",
    "VoiceEndpoint": "callboard.core.models.voice_steps",
    "VoiceStep": "callboard.core.models.voice_steps",
    "VoiceTest": "callboard.core.models.definitions",
    "dump_test": "callboard.core.models.definitions",
    "parse_test": "callboard.core.models.definitions",
    "score": "callboard.core.models.runs",
}

__all__ = [
    "FINAL_STATUSES",
    "KINDS",
    "Batch",
    "BatchCounts",
    "BatchStatus",
    "CallTest",
    "CallerStep",
    "ChatEndpoint",
    "Check",
    "CheckBase",
    "CheckResult",
    "CommandTest",
    "ConversationTest",
    "HttpRequest",
    "HttpTest",
    "LastResult",
    "Run",
    "RunResult",
    "RunStatus",
    "SimulatedUserSpec",
    "StoredTest",
    "TestDefinition",
    "TestOutline",
    "TranscriptEntry",
    "Turn",
    "VoiceEndpoint",
    "VoiceStep",
    "VoiceTest",
    "dump_test",
    "parse_test",
    "score",
]


def __getattr__(name: str) -> Any:
    """The model ``name``, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
