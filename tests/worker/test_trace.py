"""A live image's stamps ride along with it: the parent's (handed, writer sent, header and
pixels read, taken) and the child's (got, started, engine call, header sent), all on one
monotonic clock. A real worker child and a real pipe; no timing thresholds (bench/ has
the numbers), only that every stage was seen, in order, by the right side."""

from __future__ import annotations

import math
import os
import time
from dataclasses import fields

from test_worker import BEHAVING, collect, results_for, variation, wait_ready

from installation.worker.client import WorkerClient
from installation.worker.replies import Result
from installation.worker.trace import Trace

STAMPS = [f.name for f in fields(Trace)]
THROUGH_THE_PIPE = STAMPS[: STAMPS.index("taken") + 1]


def test_a_result_carries_every_stage_from_the_pipe_to_poll_in_order() -> None:
    worker = WorkerClient(BEHAVING, hang_timeout_s=5.0)
    worker.start()
    try:
        wait_ready(worker)
        v = variation(seed=0x7A7A)
        before = time.monotonic()
        worker.request(v)
        out = collect(worker, results_for(v))
        after = time.monotonic()
    finally:
        worker.stop()
    result = next(o for o in out if isinstance(o, Result) and o.variation == v)
    trace = result.trace
    assert trace is not None and worker.describe["pid"] != str(os.getpid())
    stamps = [getattr(trace, name) for name in THROUGH_THE_PIPE]
    assert not any(math.isnan(s) for s in stamps), trace
    assert before <= stamps[0] and stamps[-1] <= after, "not the parent's monotonic clock"
    assert stamps == sorted(stamps), f"stages out of order: {trace}"
    # the child measured its call with the stamps it sent: the two agree exactly
    assert result.ms == (trace.call_ended - trace.call_began) * 1000.0
    assert math.isnan(trace.presented) and math.isnan(trace.shown)  # the presenter's
    names = [name for name, _ in trace.stages()]
    assert names[0] == "handed -> sent" and names[-1] == "presented -> shown"


def test_a_trace_ignores_child_stamps_it_cannot_read() -> None:
    trace = Trace(handed=1.0)
    trace.child((1.0, 2.0))  # an older child, or garbage: too few
    trace.child(("a", 1.0, 2.0, 3.0, 4.0, 5.0))  # not floats
    assert math.isnan(trace.sent) and trace.handed == 1.0
    trace.child((2.0, 3.0, 4.0, 5.0, 6.0, 7.0))
    assert (trace.sent, trace.child_sent) == (2.0, 7.0)
