"""Write tests back out as a TOML suite that imports to the same tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tomli_w

from callboard.core.models import TestDefinition, dump_test


def _without_nulls(value: Any, where: str) -> Any:
    # TOML has no null; a null inside a JSON body cannot be written faithfully.
    if value is None:
        raise ValueError(f"{where}: TOML cannot hold a null value")
    if isinstance(value, dict):
        return {key: _without_nulls(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nulls(item, f"{where}[{index}]") for index, item in enumerate(value)]
    return value


def dump_toml_suite(tests: Iterable[TestDefinition]) -> str:
    """The TOML text of a suite holding these tests, in the order given."""
    entries = [_without_nulls(dump_test(test), f"test '{test.name}'") for test in tests]
    return tomli_w.dumps({"test": entries}, multiline_strings=True)
