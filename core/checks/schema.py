"""JSON Schema validation with validators built once per distinct schema."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import exceptions, validators
from jsonschema.protocols import Validator


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Validator | str:
    schema = json.loads(schema_json)
    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        return f"the JSON Schema itself is invalid: {exc.message}"
    return cls(schema)


def schema_problem(schema: dict[str, Any], document: Any) -> str | None:
    """Why ``document`` does not validate against ``schema`` (the most relevant error), or None."""
    # A schema is a dict (unhashable): its canonical JSON is the cache key.
    validator = _validator(json.dumps(schema, sort_keys=True))
    if isinstance(validator, str):
        return validator
    error = exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return None
    where = error.json_path if error.path else "the document"
    return f"{where}: {error.message}"
