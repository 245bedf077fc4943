"""Measuring what a piece of code allocates, for tests of laziness and input bounds."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

# tracemalloc counts every thread's allocations, and the suite leaves daemon threads that
# allocate now and then: a bound far above a few tuples and far below any materialising
# step (gigabytes to petabytes in these tests) decides without racing them
LAZY_BYTES = 2_000_000


def peak_bytes(work: Callable[[], object]) -> int:
    """The most memory Python allocated while `work` ran (tracemalloc)."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
