"""Keep the daemon's long-lived objects out of the garbage collector's full passes.

A full collection walks every tracked object. With 10,000 tests loaded that walk takes longer than
queueing a batch should, and it strikes at random inside requests. Objects that live as long as the
catalogue (modules, the app, the parsed tests) are moved to the permanent generation after each
change to them: collect first (so nothing dead is kept), then freeze.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect everything, then freeze what is left (undoing the previous freeze, so objects that
    have died since are collected too)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
