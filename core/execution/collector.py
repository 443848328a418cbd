"""The garbage collector's pace in the long-running processes (the daemon, `callboard worker`).

Python collects its youngest generation each time 700 more container objects have been made than
freed. That suits a script; a daemon running 64 HTTP tests at once keeps each run's few hundred objects
(request, response, result, checks) alive for the length of its request, some 13,000 objects in all.
At 700, nearly every young pass found those alive and promoted them, and the older passes walked them
again before they died: on the bench daemon (``gc.callbacks``) 225 young, 20 middle and 2 full passes
per 4,180-run batch, about 38 µs per run, the full ones some 12 ms each, inside requests; batches
alternated in one process took 346 against 313 µs of the loop's CPU per run. At 20,000 the in-flight
objects die young, a young pass comes once cyclic garbage has piled up that far (a few MB at most), and
the long-lived objects are frozen anyway (core/services/heap.py).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def tune_collector() -> None:
    """Collect the youngest generation only every ``YOUNG_THRESHOLD`` net allocations."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
