"""What the generation worker answers a request with: a Result or a Failure.

WorkerClient (the real worker), FakeWorker and CachedWorker all return these from poll().
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from installation.core.variations import Variation
from installation.worker.trace import Trace

KINDS = ("unsafe", "oom", "error", "crash", "hang")  # a Failure's kind


@dataclass(frozen=True, eq=False)
class Result:
    """An image for a variation. fallback=True: made by the parent's fallback engine.
    describe: the describe() of the engine that made this image (for the archive).
    trace: when it passed each stage on its way (worker/trace.py); None: not the child's.
    source: a cache hit's file on disk, with exactly these pixels (storage/journal.py)."""

    variation: Variation
    image: np.ndarray = field(repr=False)
    engine: str
    ms: float
    fallback: bool = False
    describe: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    trace: Trace | None = field(default=None, compare=False, repr=False)
    # the same pixels as a PNG already safe on disk (a cache file): the archive links it
    source: Path | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Failure:
    """No image: kind is unsafe (re-roll, never show), oom, error, crash or hang."""

    variation: Variation
    reason: str
    kind: str


# What the worker answers a request with (poll() returns a list of them).
WorkerReply = Result | Failure
