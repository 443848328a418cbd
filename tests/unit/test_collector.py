"""The long-running processes' collector pace: objects that live as long as a run's request (64 runs'
worth at once) die young instead of being walked and promoted by one young pass after another."""

from __future__ import annotations

import subprocess
import sys

# In a process of its own: the young passes while 64 runs' worth of objects (a hundred each) are made, held
# for a while and dropped, batch after batch, as the engine does.
_PROGRAM = """
import gc, sys
from callboard.core.execution.collector import tune_collector
if sys.argv[1] == "tuned":
    tune_collector()
gc.freeze()
young = 0
def count(phase, info):
    global young
    young += phase == "start" and info["generation"] == 0
gc.callbacks.append(count)
for _ in range(50):
    in_flight = [[{"run": n, "part": k} for k in range(100)] for n in range(64)]
    del in_flight
print(young)
"""


def _young_passes(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _PROGRAM, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_batch_of_in_flight_objects_triggers_no_young_pass_once_tuned() -> None:
    assert _young_passes("default") >= 50 * 64 * 100 // 700 // 2  # Python's pace: hundreds of passes
    assert _young_passes("tuned") == 0
