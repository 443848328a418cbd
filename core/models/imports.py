"""``POST /v1/tests/import``'s body, apart from the rest of the API's bodies: it holds test definitions,
which a client that only follows batches never needs to build (core/models/api.py stays light)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from callboard.core.models.outlines import TestOutline
from callboard.core.models.schema_rules import SUITE_PATH_PATTERN, any_of_non_empty


class ImportRequest(BaseModel):
    """``POST /v1/tests/import``: suite files the daemon reads (same machine, same user), or tests
    given by value in suite form. All or nothing."""

    # A misspelt field in a request is an error, not silently ignored (as every request body).
    model_config = ConfigDict(extra="forbid", json_schema_extra=any_of_non_empty("paths", "tests"))

    paths: list[Annotated[str, Field(pattern=r"^/", json_schema_extra={"pattern": SUITE_PATH_PATTERN})]] = (
        Field(default_factory=list, max_length=1000, description="Absolute paths of .toml or .csv files.")
    )
    tests: list[TestOutline] = Field(default_factory=list)  # validated as TestDefinition, kept compact
