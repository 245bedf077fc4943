"""Where a live image's time goes between the request and the wall: monotonic timestamps.

Every image the worker child makes carries a Trace: the parent stamps when the job was
handed to the pipe and when its writer thread began sending it; the child stamps when its
reader thread received the job, when the render loop started it, when the engine call
began and ended and when the result header went out, and sends those along with the
result (the child's time.monotonic is the same CLOCK_MONOTONIC as the parent's: it is
system-wide on Linux); the parent's reader thread stamps when the header and the pixels
were in, poll() when it took the result, and the presenter when it was asked to present
it and when it handed it to the screen. A few clock reads per image, always on; no log
line per frame. The bench (bench/latency.py) turns them into the per-stage table.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, fields

CHILD_STAMPS = 6  # (writer sent, child got, started, call began, call ended, header sent)
NAN = math.nan


@dataclass
class Trace:
    """Monotonic seconds (time.monotonic); NaN where a stage was not seen."""

    handed: float = NAN  # the parent queued the job for the pipe's writer (request/poll)
    sent: float = NAN  # the writer thread began sending it
    child_got: float = NAN  # the child's reader thread had it
    child_started: float = NAN  # the child's render loop took it (and said "started")
    call_began: float = NAN  # engine.render() called
    call_ended: float = NAN  # engine.render() returned (image checked)
    child_sent: float = NAN  # the child began sending the result header
    header_read: float = NAN  # the parent's reader thread had the header
    pixels_read: float = NAN  # ... and the pixels after it
    taken: float = NAN  # poll() took the result (frame thread)
    presented: float = NAN  # Presenter.present(): the director said Present
    shown: float = NAN  # the presenter handed the image to the screen (Screen.present)

    def stages(self) -> list[tuple[str, float]]:
        """(from -> to, ms) between consecutive stamps; NaN where either end is missing."""
        stamps = [(f.name, getattr(self, f.name)) for f in fields(self)]
        return [
            (f"{a} -> {b}", (tb - ta) * 1000.0) for (a, ta), (b, tb) in itertools.pairwise(stamps)
        ]

    def summary(self) -> dict[str, float]:
        """The status's view, in ms: to the child and its start, the engine call, back to
        the frame loop, and held for the disk and the cue lead; None-free (NaN dropped)."""
        spans = {
            "to_child_ms": (self.handed, self.child_started),
            "render_ms": (self.call_began, self.call_ended),
            "from_child_ms": (self.call_ended, self.taken),
            "held_ms": (self.presented, self.shown),
        }
        out = {k: round((b - a) * 1000.0, 2) for k, (a, b) in spans.items()}
        return {k: v for k, v in out.items() if math.isfinite(v)}

    def child(self, stamps: tuple[float, ...] | list[float]) -> None:
        """Take the child's stamps from a result header (CHILD_STAMPS floats; others ignored)."""
        if len(stamps) == CHILD_STAMPS and all(isinstance(s, float) for s in stamps):
            (
                self.sent,
                self.child_got,
                self.child_started,
                self.call_began,
                self.call_ended,
                self.child_sent,
            ) = stamps


def stamp() -> float:
    """Now, on the clock every stamp uses (the child's and the parent's are the same)."""
    return time.monotonic()
