"""FakeWorker: the WorkerClient contract in-process, driven by an injected clock.

For tests of the app: renders with a given engine when poll()/step() runs, can be told
to take time, fail, crash or hang, and records every request in `history`. It follows
the real worker's rules: a newer live request supersedes a queued one, background
requests queue behind live ones without duplicates, and while the "child" is starting,
crashed or hung the newest live request gets a fallback Result (fallback=True).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from installation.core.variations import Variation
from installation.engines.engine import Engine
from installation.worker.replies import KINDS, Failure, Result, WorkerReply


class SolidEngine:
    """A flat colour from the seed: cheap, deterministic, never black."""

    def __init__(self, name: str = "fake") -> None:
        self.name = name

    def describe(self) -> dict[str, str]:
        return {"engine": self.name}

    def render(self, variation: Variation) -> np.ndarray:
        p, s = variation.params, variation.seed
        colour = (32 + s % 192, 32 + (s >> 8) % 192, 32 + (s >> 16) % 192)
        return np.full((p.height, p.width, 3), colour, np.uint8)


@dataclass
class _Job:
    variation: Variation
    live: bool
    started: float


class FakeWorker:
    """Same public API as WorkerClient, plus step(), delay(), fail_next(), crash(), hang()."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        fallback: Engine | None = None,
        clock: Callable[[], float] = time.monotonic,
        hang_timeout_s: float = 60.0,
        ready_after_s: float = 0.0,
        auto: bool = True,
    ) -> None:
        self.engine = engine or SolidEngine()
        self.fallback = fallback or SolidEngine("fallback")
        self.clock = clock
        self.hang_timeout_s = hang_timeout_s
        self.ready_after_s = ready_after_s
        self.auto = auto  # poll() calls step() itself
        self.history: list[tuple[Variation, bool]] = []
        self.describe: dict[str, str] = {}
        self.restarts = self.renders = self.failures = 0
        self.render_s = 0.0
        self.retry_asks = 0  # retry_engine() calls (a show reload asks)
        self._state = "stopped"  # stopped | starting | ready
        self._ready_at = 0.0
        self._live: Variation | None = None
        self._bg: OrderedDict[Variation, None] = OrderedDict()
        self._job: _Job | None = None
        self._fail: list[tuple[str, str]] = []
        self._hung_at: float | None = None
        self._out: list[WorkerReply] = []

    def __repr__(self) -> str:
        busy = self._job.variation.key if self._job else None
        state = f"{self._state} engine={self.engine_name}"
        return f"<FakeWorker {state} busy={busy} queued={self.queued}>"

    # -- the WorkerClient API ---------------------------------------------------------------
    @property
    def engine_name(self) -> str:
        return self.engine.name if self._state == "ready" else self._state

    @property
    def ready(self) -> bool:
        return self._state == "ready"

    @property
    def queued(self) -> int:
        return len(self._bg) + (self._live is not None)

    def start(self) -> None:
        if self._state == "stopped":
            self._boot()

    def stop(self) -> None:
        self._state, self._job, self._hung_at = "stopped", None, None

    def request(self, variation: Variation, live: bool = True) -> None:
        self.history.append((variation, live))
        if self._job is not None and self._job.variation == variation:
            self._job.live = self._job.live or live
            if live:
                self._live = None  # as the real worker: the job in flight supersedes it
        elif live:
            self._live = variation
            self._bg.pop(variation, None)
        elif variation != self._live:
            self._bg.setdefault(variation, None)

    def poll(self) -> list[WorkerReply]:
        if self.auto:
            self.step()
        out, self._out = self._out, []
        return out

    def health(self) -> dict[str, Any]:
        return {
            "alive": self._state != "stopped",
            "state": self._state,
            "engine": self.engine_name,
            "pid": None,
            "restarts": self.restarts,
            "busy": self._job is not None,
            "last_heartbeat_age_s": 0.0 if self._hung_at is None else self._hang_age(),
            "in_flight": self._job.variation.key if self._job else None,
            "queued": self.queued,
            "in_child": int(self._job is not None),  # the fake hands over one job at a time
            "renders": self.renders,
            "failures": self.failures,
            "fallback_busy": False,
        }

    def healthy(self) -> bool:
        return self._state != "stopped" and self._hung_at is None

    def retry_engine(self) -> bool:
        """Counted; the fake's engine always loads, so there is nothing to retry."""
        self.retry_asks += 1
        return False

    # -- stimulus ---------------------------------------------------------------------------
    def delay(self, seconds: float) -> None:
        """Every render from now on takes this long on the clock."""
        self.render_s = seconds

    def fail_next(self, kind: str = "error", reason: str = "fake failure") -> None:
        """The next render ends in a Failure of this kind (unsafe, oom, error)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self._fail.append((kind, reason))

    def crash(self) -> None:
        """The child dies now: the job in flight fails, the live request gets a fallback."""
        if self._state != "stopped":
            self._lose_child("crash", "worker exited with code -9")

    def hang(self) -> None:
        """The child stops responding; after hang_timeout_s it is 'killed' and restarted."""
        if self._state != "stopped":
            self._hung_at = self.clock()

    # -- one unit of work -------------------------------------------------------------------
    def step(self) -> None:
        """Advance the fake: start-up, hang detection, at most one finished render."""
        now = self.clock()
        if self._state == "stopped":
            return
        if self._hung_at is not None:
            if self._hang_age() > self.hang_timeout_s:
                self._lose_child("hang", f"sent no heartbeat for {self._hang_age():.1f} s")
            return
        if self._state == "starting" and now >= self._ready_at:
            self._state, self.describe = "ready", self.engine.describe()
        if self._state != "ready":
            if self._live is not None:
                self._out.append(self._fallback_result(self._live))
                self._live = None
            return
        if self._job is None:
            self._take_job(now)
        if self._job is not None and now - self._job.started >= self.render_s:
            self._finish(self._job)

    def _take_job(self, now: float) -> None:
        if self._live is not None:
            self._job, self._live = _Job(self._live, True, now), None
        elif self._bg:
            self._job = _Job(self._bg.popitem(last=False)[0], False, now)

    def _finish(self, job: _Job) -> None:
        self._job = None
        if not self._fail:
            self.renders += 1
            image = self.engine.render(job.variation)
            ms = self.render_s * 1e3
            describe = dict(self.describe)
            self._out.append(Result(job.variation, image, self.engine.name, ms, describe=describe))
            return
        kind, reason = self._fail.pop(0)
        self.failures += 1
        self._out.append(Failure(job.variation, reason, kind))
        if kind != "unsafe" and job.live and self._live is None:
            self._out.append(self._fallback_result(job.variation))

    def _lose_child(self, kind: str, reason: str) -> None:
        job, self._job, self._hung_at = self._job, None, None
        if job is not None:
            self.failures += 1
            self._out.append(Failure(job.variation, reason, kind))
            if job.live and self._live is None:
                self._live = job.variation
        if self._live is not None:
            self._out.append(self._fallback_result(self._live))
            self._live = None
        self.restarts += 1
        self._boot()

    def _boot(self) -> None:
        self._state, self.describe = "starting", {}
        self._ready_at = self.clock() + self.ready_after_s
        if self.ready_after_s <= 0:
            self._state, self.describe = "ready", self.engine.describe()

    def _hang_age(self) -> float:
        return self.clock() - (self._hung_at or 0.0)

    def _fallback_result(self, variation: Variation) -> Result:
        image = self.fallback.render(variation)
        describe = self.fallback.describe()
        return Result(variation, image, self.fallback.name, 0.0, True, describe=describe)
