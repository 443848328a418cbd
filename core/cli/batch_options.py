"""The ``--priority`` and ``--repeat`` options of every command that queues a batch (run, retry,
schedule add), with the ranges of ``core.models.selection``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from callboard.core.models.selection import MAX_TRIALS, PRIORITY_MAX, PRIORITY_MIN

F = TypeVar("F", bound=Callable[..., object])


def batch_options(command: F) -> F:
    """Add ``--priority`` (default 0) and ``--repeat`` (default: each test's own) to ``command``."""
    command = click.option(
        "--repeat", type=click.IntRange(1, MAX_TRIALS), help="Trials per test (default: each test's own)."
    )(command)
    return click.option(
        "--priority",
        type=click.IntRange(PRIORITY_MIN, PRIORITY_MAX),
        default=0,
        show_default=True,
        help="Higher runs first (added to each test's own priority).",
    )(command)
