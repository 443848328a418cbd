"""What the llm code reads from the ``[llm]`` settings.

A protocol rather than the settings class: executors may not import ``callboard.core.config`` (a layer
contract), and ``LlmSettings`` fits the protocol as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import SecretStr


class LlmOptions(Protocol):
    """The ``[llm]`` settings (see config.example.toml)."""

    @property
    def base_url(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def api_key(self) -> SecretStr | None: ...
    @property
    def timeout_s(self) -> float: ...
    @property
    def concurrency(self) -> int | None: ...
    @property
    def rate_per_s(self) -> float | None: ...
    @property
    def judge_samples(self) -> int: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def user_temperature(self) -> float: ...
    @property
    def user_prompt_file(self) -> Path | None: ...
    @property
    def judge_prompt_file(self) -> Path | None: ...
