"""Frame-time pieces shared by benchmarks 3 and 9: frame stamps, an Xvfb server, goal rows.

Frames are timed where the loop runs them (each return of the screen's frame()), not at
flips: a still frame draws and flips nothing (display/layers.py), yet it is a frame the
wall was ready to change on. Beside each interval the pacer's wait inside it is kept, so
a missed goal can say whether our work or the machine (the process not scheduled) took
the time.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Result, load_average, pct

P99_GOAL_MS = 17.5
MAX_GOAL_MS = 33.0


@dataclass
class FrameLog:
    """When each frame() returned and how long the pacer waited inside it (ms)."""

    ends: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the main thread's CPU time at each end

    def cpu_since(self, start: int) -> list[float]:
        """The main thread's CPU time per frame (ms), beside the intervals of since()."""
        return [(b - a) * 1000 for a, b in itertools.pairwise(self.cpu[start:])]

    def since(self, start: int) -> tuple[list[float], list[float]]:
        """(intervals, work) in ms for the frames after index `start`: work is the interval
        minus the pacer's wait, i.e. what the loop spent (running or waiting for a core)."""
        ends, waits = self.ends[start:], self.waits[start:]
        intervals = [(b - a) * 1000 for a, b in itertools.pairwise(ends)]
        work = [i - w for i, w in zip(intervals, waits[1:], strict=False)]
        return intervals, work


def stamp_frames(screen: Any) -> FrameLog:
    """Record every frame() of `screen` (a Kiosk or a Wall) and its pacer's waits."""
    log = FrameLog()
    real_frame, real_wait = screen.frame, screen.pacer.wait

    def wait(*args: Any, **kw: Any) -> bool:
        t0 = time.perf_counter()
        try:
            return bool(real_wait(*args, **kw))
        finally:
            log.waits.append((time.perf_counter() - t0) * 1000)

    def frame() -> None:
        real_frame()
        log.ends.append(time.perf_counter())
        log.cpu.append(time.thread_time())

    screen.frame = frame
    screen.pacer.wait = wait
    return log


def frame_rows(
    result: Result,
    name: str,
    intervals: list[float],
    work: list[float],
    redraws: dict[str, int],
    cpu: list[float] | None = None,
) -> None:
    """p50, p99 (goal 17.5 ms), max (goal 33 ms) and the frames over 33 ms of one run, with
    the reason when a goal is missed: our work per frame or the time the process waited."""
    over = sum(v > MAX_GOAL_MS for v in intervals)
    why = (
        f"main-thread CPU per frame p50 {pct(cpu or [], 50):.1f} ms, p99 "
        f"{pct(cpu or [], 99):.1f} ms; work (interval minus pacer wait) p50 "
        f"{pct(work, 50):.1f} ms, p99 "
        f"{pct(work, 99):.1f} ms, max {max(work, default=float('nan')):.1f} ms; frames drawn "
        f"whole {redraws.get('full', 0)}, in part {redraws.get('part', 0)}, still "
        f"{redraws.get('still', 0)}; load {load_average()}"
    )
    result.add(f"{name}: frame p50", pct(intervals, 50), "ms")
    result.add(f"{name}: frame p99", pct(intervals, 99), "ms", goal=P99_GOAL_MS, note=why)
    result.add(f"{name}: frame max", max(intervals, default=float("nan")), "ms",
               goal=MAX_GOAL_MS, note=why)  # fmt: skip
    result.add(f"{name}: frames over 33 ms", over, "frames")
    result.add(f"{name}: work p99 (interval minus pacer wait)", pct(work, 99), "ms")
    if cpu:
        result.add(f"{name}: main-thread CPU per frame p50", pct(cpu, 50), "ms")
        result.add(f"{name}: main-thread CPU per frame p99", pct(cpu, 99), "ms")
    result.add(f"{name}: frames measured", len(intervals), "frames")
    result.samples += len(intervals)


def redraw_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


@contextmanager
def xvfb(screen: str = "3840x1080x24") -> Iterator[str | None]:
    """A private Xvfb server for the duration, SDL pointed at it (x11); None when Xvfb is
    not installed. The environment is restored afterwards."""
    binary = shutil.which("Xvfb")
    if binary is None:
        yield None
        return
    n = next(
        n for n in range(140, 200)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )  # fmt: skip
    proc = subprocess.Popen(
        [binary, f":{n}", "-screen", "0", screen, "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    saved = {k: os.environ.get(k) for k in ("DISPLAY", "SDL_VIDEODRIVER")}
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb :{n} did not come up")
            time.sleep(0.05)
        os.environ.update(DISPLAY=f":{n}", SDL_VIDEODRIVER="x11")
        yield f":{n}"
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.terminate()
        proc.wait(10)
