"""The parent's record of the jobs handed to the worker child (see client.py).

The child takes a live job before queued ones and says when it starts one (child.py), so
the parent knows, or can tell, which job is rendering: that one is blamed for a crash or
hang, and the jobs the child never started are asked for again from the next child.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from installation.core.variations import Variation
from installation.worker.pipe import Pixels
from installation.worker.replies import Result
from installation.worker.trace import Trace, stamp

MAX_BACKGROUND = 4096  # queued background requests kept; the oldest go first


@dataclass
class Job:
    id: int
    variation: Variation
    live: bool
    sent_at: float
    started_at: float | None = None  # the child's "started" message came
    handed: float = field(default_factory=stamp)  # queued for the pipe (worker/trace.py)


def result_of(
    job: Job, header: tuple[Any, ...], pixels: Pixels | None, describe: dict[str, str]
) -> Result:
    """The Result for a child's result header and its pixels (no copy: the image is a view
    of the buffer the pixels were received into), with the job's Trace up to now."""
    _, _, engine, shape, ms, *rest = header
    trace = Trace(handed=job.handed, taken=stamp())
    if rest and isinstance(rest[0], tuple):
        trace.child(rest[0])
    data = bytearray() if pixels is None else pixels.data
    if pixels is not None:
        trace.header_read, trace.pixels_read = pixels.header_read, pixels.pixels_read
    image = np.frombuffer(data, np.uint8).reshape(shape)
    return Result(job.variation, image, engine, ms, describe=describe, trace=trace)


def rendering(flight: dict[int, Job]) -> Job | None:
    """The job the child is rendering: the one it said it started, else the one it will
    pick (a live one first, else the oldest)."""
    jobs = list(flight.values())
    started = [j for j in jobs if j.started_at is not None]
    if started:
        return started[-1]
    return next((j for j in jobs if j.live), jobs[0] if jobs else None)


def give_back(
    unstarted: list[Job], live: Variation | None, background: OrderedDict[Variation, None]
) -> Variation | None:
    """Queue the jobs a lost child never started again: background ones at the front, in
    their order; a live one becomes the live request unless a newer one waits. Returns the
    live request."""
    for job in reversed(unstarted):
        if job.live:
            live = live or job.variation
        elif job.variation not in background:
            background[job.variation] = None
            background.move_to_end(job.variation, last=False)
    return live


def enqueue(
    variation: Variation,
    live: bool,
    flight: dict[int, Job],
    wanted: Variation | None,
    background: OrderedDict[Variation, None],
) -> Variation | None:
    """Record a request: a live one supersedes the queued live request (`wanted`), a
    background one queues (de-duplicated, at most MAX_BACKGROUND: the oldest go first); a
    request already in the child only upgrades that job to live. Returns the live request."""
    job = next((j for j in flight.values() if j.variation == variation), None)
    if job is not None:
        job.live = job.live or live
        return None if live else wanted  # the newest throw is in the child: a queued one is stale
    if live:
        background.pop(variation, None)
        return variation
    if variation != wanted and variation not in background:
        background[variation] = None
        if len(background) > MAX_BACKGROUND:
            background.popitem(last=False)
    return wanted
