"""Known secret values, and their removal from anything callboard stores or logs.

The settings keep secrets as ``SecretStr`` so they are never printed; a command test could still print
one it found (a file, a variable passed through on purpose). Redaction is the second line of defence:
every secret value the settings hold is replaced by ``[redacted]`` in results before they are written,
and in log records before they are formatted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, SecretStr

from callboard.core.models import CheckResult, RunResult, TranscriptEntry

MASK = "[redacted]"
# Shorter values would match ordinary text everywhere; such a secret protects nothing anyway.
MIN_SECRET_LEN = 4


def secret_values(model: BaseModel) -> tuple[str, ...]:
    """Every non-trivial ``SecretStr`` value found anywhere in ``model`` (nested models, lists, dicts)."""
    found = {value for value in _walk(model) if len(value) >= MIN_SECRET_LEN}
    # Longest first, so a secret containing another is masked whole.
    return tuple(sorted(found, key=len, reverse=True))


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _walk(item)


class Redactor:
    """Replaces known secret values in text and in run results."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)
        self.secrets = tuple(values)
        self._pattern = re.compile("|".join(re.escape(s) for s in values)) if values else None

    def text(self, text: str) -> str:
        """``text`` with every secret value masked."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def optional(self, text: str | None) -> str | None:
        """Like ``text``, passing None through."""
        return None if text is None else self.text(text)

    def result(self, result: RunResult) -> RunResult:
        """A copy of ``result`` with secrets masked in its messages, checks, transcript and artifacts."""
        if self._pattern is None:
            return result
        return result.model_copy(
            update={
                "error_message": self.optional(result.error_message),
                "checks": [self._check(check) for check in result.checks],
                "transcript": [self._entry(entry) for entry in result.transcript],
                "artifacts": {key: self.text(value) for key, value in result.artifacts.items()},
            }
        )

    def _check(self, check: CheckResult) -> CheckResult:
        return check.model_copy(
            update={
                "expected": self._any(check.expected),
                "actual": self._any(check.actual),
                "message": self._any(check.message),
            }
        )

    def _entry(self, entry: TranscriptEntry) -> TranscriptEntry:
        return entry.model_copy(update={"text": self.text(entry.text)})

    def _any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._any(item) for item in value]
        if isinstance(value, dict):
            return {key: self._any(item) for key, item in value.items()}
        return value


class RedactingFilter(logging.Filter):
    """A log filter that masks secret values in the formatted message (and drops the raw arguments)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if self._redactor.secrets:
            message = record.getMessage()
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.msg = self._redactor.text(message)
            record.args = None
            if record.exc_text:
                record.exc_text = self._redactor.text(record.exc_text)
        return True
