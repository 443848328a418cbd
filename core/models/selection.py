"""What a batch runs and how: the test selector (ids, names, tags, all) and the batch options
(priority, trials), shared by ``POST /v1/batches``, schedules, retries and the engine.

``PRIORITY_MIN``..``PRIORITY_MAX`` is the one range of priorities: a test's own, a batch's, and their
sum on a run (the store adds them; the queue starts the highest first, FIFO within a priority).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callboard.core.models.names import NAME_SCHEMA, check_name
from callboard.core.models.schema_rules import any_of_non_empty

PRIORITY_MIN = -1000
PRIORITY_MAX = 1000
Priority = Annotated[int, Field(ge=PRIORITY_MIN, le=PRIORITY_MAX, description="Higher runs first.")]
MAX_TRIALS = 1000
Trials = Annotated[int, Field(ge=1, le=MAX_TRIALS)]
# The largest integer every JSON reader holds exactly: a bound of 2**63 - 1 would be rounded up to 2**63
# by a client sending it as a float, and the request the schema allows would be refused.
MAX_ID = 2**53 - 1
_Name = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=NAME_SCHEMA)]


class Selection(BaseModel):
    """Tests chosen by id, by name, by tag, or all of them (the union of what is given)."""

    # Built on first use (as the bodies of ``models.api``): a command that only queues a batch
    # never builds the schedule and retry models that share this one.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=any_of_non_empty("ids", "names", "tags", flag="all"),
        defer_build=True,
    )

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list)
    names: list[_Name] = Field(default_factory=list)
    tags: list[_Name] = Field(default_factory=list)
    all: bool = False

    @field_validator("names", "tags")
    @classmethod
    def _one_line_each(cls, value: list[str]) -> list[str]:
        # A newline here would forge lines in the daemon's log (schedules log what they select).
        return [check_name(item, "each name and tag") for item in value]

    @property
    def empty(self) -> bool:
        """Nothing was asked for."""
        return not (self.ids or self.names or self.tags or self.all)

    def selection(self) -> Selection:
        """Only the selector's fields (of a request, schedule or retry that holds more)."""
        return Selection(ids=self.ids, names=self.names, tags=self.tags, all=self.all)

    def as_dict(self) -> dict[str, object]:
        """A plain form for the batch and schedule records."""
        return {"ids": list(self.ids), "names": list(self.names), "tags": list(self.tags), "all": self.all}


class BatchOptions(BaseModel):
    """How a batch runs: its priority and how many trials of each test (unset: each test's ``repeat``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    priority: Priority = 0
    repeat: Trials | None = None

    def batch_options(self) -> BatchOptions:
        """Only the options (of a request, schedule or retry that holds more)."""
        return BatchOptions(priority=self.priority, repeat=self.repeat)
