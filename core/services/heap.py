"""Keep the daemon's long-lived objects out of the garbage collector's full passes, and give the
memory that loading them needed back to the system.

A full collection walks every tracked object. With 10,000 tests loaded that walk takes longer than
queueing a batch should, and it strikes at random inside requests. Objects that live as long as the
catalogue (modules, the app, the parsed tests) are moved to the permanent generation after each
change to them: collect first (so nothing dead is kept), then freeze.

Loading them (an import of 10,000 tests) frees megabytes of passing objects between the ones kept.
glibc's allocator keeps such free memory inside its heap for later; ``malloc_trim`` hands its free
pages back, about 5 MB after such an import (elsewhere than glibc there is nothing to call).
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


_TRIM = _malloc_trim()


def settle_heap() -> None:
    """Collect everything, then freeze what is left (undoing the previous freeze, so objects that
    have died since are collected too), then give the allocator's free pages back."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    if _TRIM is not None:
        _TRIM(0)
