"""The one inbox every edge puts its events into: bounded, and never in a throw's way.

Edges call `put` from their own threads and it never blocks. When the inbox is full
the oldest *throw* events go first (a stale throw is worth nothing once a newer one
exists), so operator commands and faults survive a flood; each drop is counted
(`inbox_full`). The frame loop takes a batch per frame with `take`, in which only the
newest throw survives: a flood of 100,000 throws costs one render and one count per
frame, and a real throw after it goes up at once instead of queueing behind stale ones.
A committed throw also sets `wake`, the event the kiosk's frame pacing waits on, so the
frame loop takes it now instead of at the next frame.
"""

from __future__ import annotations

import queue
import threading
from collections import deque

from installation.core import events as ev

CAPACITY = 1024
THROWS = (ev.ThrowCommitted, ev.RandomThrow, ev.DiceRolling, ev.ThrowCancelled)
COMMITS = (ev.ThrowCommitted, ev.RandomThrow)


def _is_throw(event: object) -> bool:
    return isinstance(event, THROWS)


class Inbox(queue.Queue[object]):
    """A queue.Queue (what the edges are typed to put into) that drops instead of growing:
    its own bound, not Queue's maxsize, so `put` never blocks a reader thread."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 2:
            raise ValueError(f"inbox capacity must be at least 2, not {capacity}")
        self.capacity = capacity
        self.dropped = 0  # inbox_full: events dropped because the inbox was full
        self.superseded = 0  # throws replaced by a newer one in the same batch
        self.wake = threading.Event()  # set by every committed throw (Kiosk(wake=...))
        super().__init__()  # maxsize 0: Queue never blocks; _put keeps the bound

    def __repr__(self) -> str:
        return f"<Inbox {self.qsize()}/{self.capacity} dropped={self.dropped}>"

    # queue.Queue's storage hooks, called with its mutex held
    def _init(self, maxsize: int) -> None:
        self.queue: deque[object] = deque()

    def _put(self, item: object) -> None:
        if len(self.queue) >= self.capacity:
            self._drop_one()
        self.queue.append(item)
        if isinstance(item, COMMITS):
            self.wake.set()

    def _drop_one(self) -> None:
        for i, old in enumerate(self.queue):
            if _is_throw(old):
                del self.queue[i]
                break
        else:  # nothing but commands and faults: the oldest goes
            self.queue.popleft()
        self.dropped += 1

    def take(self, limit: int) -> list[object]:
        """Up to `limit` events, oldest first, with every throw but the batch's newest removed
        (rolling and cancel notes before that throw are moot too; those after it stay)."""
        with self.mutex:
            batch = [self.queue.popleft() for _ in range(min(limit, len(self.queue)))]
            if batch:
                self.not_full.notify_all()
        last = max((i for i, e in enumerate(batch) if isinstance(e, COMMITS)), default=-1)
        out: list[object] = []
        for i, e in enumerate(batch):
            if i < last and _is_throw(e):
                if isinstance(e, COMMITS):
                    self.superseded += 1
                continue
            out.append(e)
        return out

    def counters(self) -> dict[str, int]:
        return {"inbox_full": self.dropped, "throws_superseded": self.superseded}
