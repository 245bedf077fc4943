"""The interpreter settings the frame loop runs under (lifecycle.run_frames; the benches).

Two of CPython's defaults cost frames in a show process:

- The garbage collector's oldest generation walks every object the process holds: about
  45,000 once the show is up, a 40 ms pause (measured here: `gc.collect()` after start-up
  takes 39-42 ms), i.e. two or three frames lost whenever it runs. What start-up built
  lives as long as the show, so it is collected once and frozen (`gc.freeze`): later
  collections walk only what was made since.
- A thread waiting for the GIL gets it after the switch interval, 5 ms by default: a
  frame due while the slide painter or the archive's threads hold the GIL started up to
  5 ms late. One millisecond keeps a late frame within the pacer's margin; the pacer
  spins its last stretch holding the GIL (display/pacing.py).

Both are undone when the loop ends (tests run many shows in one process).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL_S = 0.001


@contextmanager
def frame_loop() -> Iterator[None]:
    """Collect and freeze what exists, shorten the GIL's switch interval; undo both after."""
    interval = sys.getswitchinterval()
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.unfreeze()
