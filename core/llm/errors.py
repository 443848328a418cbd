"""How talking to the model can go wrong, as the executor error types the engine understands.

Transient trouble (429, 5xx, a dropped connection, a slow answer) is retried inside the client first and
only then raised as a TransientError/RateLimited, so it never becomes a failed check. A refused key, an
unknown model or a request the server rejects is a RunError with an ``llm_*`` kind; the engine skips the
rest of the batch's model work after the first one (one clear error per batch).
"""

from __future__ import annotations

from callboard.core.execution.base import RunError

# Error kinds after which no other run of the batch will fare better.
FATAL_KINDS = frozenset({"llm_auth", "llm_model", "llm_config"})


class MalformedOutput(Exception):
    """The model answered, but not with JSON of the asked shape."""


class LlmRefused(RunError):
    """The model endpoint refused the request for a reason retrying cannot fix."""
