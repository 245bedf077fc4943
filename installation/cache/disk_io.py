"""DiskIO: the outcome cache's disk work for the kiosk, in one daemon thread.

The frame loop asks for loads, writes and discards and returns at once; finished loads
come back through take() (and set the frame pacing's wake event). Loads go first;
queued writes are bounded (extras are dropped and counted), so a slow disk never holds
memory or the frame.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from typing import Any

import numpy as np

from installation.cache.outcome_cache import OutcomeCache
from installation.core.variations import Variation

log = logging.getLogger(__name__)


class DiskIO:
    """One daemon thread for disk work: loads first, then writes (bounded; extras dropped)."""

    def __init__(
        self, cache: OutcomeCache, max_writes: int = 32, wake: threading.Event | None = None
    ) -> None:
        self.cache, self.max_writes = cache, max_writes
        self.wake = wake  # set when a load is done: a disk hit goes up now, not a frame later
        self._q: queue.PriorityQueue[tuple[int, int, str, Variation | None, Any]] = (
            queue.PriorityQueue()
        )
        self._done: deque[tuple[Variation, np.ndarray | None]] = deque()
        self._lock = threading.Lock()
        self._seq = self._writes = self.dropped = 0
        self._thread: threading.Thread | None = None

    def load(self, variation: Variation) -> None:
        self._submit(0, "load", variation, None)

    def discard(self, variation: Variation) -> None:
        self._submit(1, "discard", variation, None)

    def write(self, variation: Variation, image: np.ndarray) -> None:
        with self._lock:
            if self._writes >= self.max_writes:
                self.dropped += 1
                return
            self._writes += 1
        self._submit(1, "write", variation, image)

    def take(self) -> list[tuple[Variation, np.ndarray | None]]:
        return [self._done.popleft() for _ in range(len(self._done))]

    def stop(self, timeout_s: float = 2.0) -> None:
        """Finish queued writes (up to timeout_s), then end the thread."""
        if self._thread is not None:
            self._submit(2, "stop", None, None)
            self._thread.join(timeout_s)
            self._thread = None

    def _submit(self, priority: int, op: str, variation: Variation | None, image: Any) -> None:
        with self._lock:
            self._seq += 1
            self._q.put((priority, self._seq, op, variation, image))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cache-io", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            _, _, op, variation, image = self._q.get()
            if op == "stop" or variation is None:
                return
            try:
                if op == "load":
                    self._done.append((variation, self.cache.get(variation)))
                    if self.wake is not None:
                        self.wake.set()
                elif op == "discard":
                    self.cache.discard(variation)
                else:
                    self.cache.write(variation, image)
            except Exception:  # a bug here must not end the thread: log, go on
                log.exception("cache: %s of %s failed", op, variation.key)
                if op == "load":
                    self._done.append((variation, None))
            finally:
                if op == "write":
                    with self._lock:
                        self._writes -= 1
