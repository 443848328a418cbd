"""What the parts of a test may hold: a test is stored as JSON.

JSON has no infinity or NaN: pydantic would write them as null, and the stored test would then no
longer be valid (the daemon could not read its own catalogue back). So they are refused where the test
is written, with the field named: in numbers (``StoredPart``) and in free-form JSON (``JsonValue``: a
request's body, a check's expected value, a JSON Schema)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict


def _storable(value: Any) -> Any:
    if _has_non_finite(value):
        raise ValueError("inf and nan cannot be stored in a test (JSON has no such numbers)")
    return value


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(item) for item in value)
    return False


JsonValue = Annotated[Any, AfterValidator(_storable)]
"""Any JSON value but inf and nan."""


class StoredPart(BaseModel):
    """A part of a test definition: unknown keys refused, immutable, and no inf or nan in any number."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
