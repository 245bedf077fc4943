"""Keeping the wall lit when the model does not load, and taking the model back later.

When the worker's child serves the fallback engine in place of the engine the show asks
for (a model disk that did not mount, a broken model, no AI extras), that is a fault:
reported once per distinct reason ("FAIL: ..." in the status errors and the log), shown
in the worker's status section, and retried every `period_s` and whenever a show reload
asks (WorkerClient.retry_engine), so a model disk that mounts late takes over without a
restart. EngineRetry is the policy; WorkerClient replaces the child when it says so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from installation.engines.build import missing_paths
from installation.engines.engine import EngineSpec

log = logging.getLogger("installation.worker.client")

RETRY_S = 60.0  # how often the wanted engine is tried again while the fallback stands in
Report = Callable[[str, str], None]  # (kind, message): a fault for the status and the log


def log_report(kind: str, message: str) -> None:
    """The default reporter, for a worker without an app around it."""
    log.error("%s: %s", kind, message)


class EngineRetry:
    """Whether the wanted engine runs, why not, and when to try it again."""

    def __init__(self, spec: EngineSpec, period_s: float = RETRY_S, report: Report | None = None):
        if not period_s > 0:
            raise ValueError(f"retry_s must be above 0 seconds, got {period_s!r}")
        self.spec = spec
        self.period_s = float(period_s)
        self.report = report or log_report
        self.problem = ""  # why the wanted engine is not running; "" while it is
        self.tries = 0  # children started to try the wanted engine again
        self._reported = ""
        self._upscale_reported = ""
        self._retry_at = math.inf
        self._asked = False

    @property
    def degraded(self) -> bool:
        """The fallback engine renders in place of the engine the show asks for."""
        return bool(self.problem)

    def hello(self, engine: str, note: str, now: float) -> None:
        """A child said hello: with a note, the wanted engine did not load. Every child
        tries the wanted engine, so this answers any retry asked for meanwhile too."""
        self._asked = False
        if not note:
            if self.problem:
                log.info("generation worker: the model loaded; engine %s took over", engine)
            self.problem, self._reported, self._retry_at = "", "", math.inf
            return
        self.problem = note
        self._retry_at, wait = now + self.period_s, self.period_s
        if note == self._reported:  # the same reason again: once in the errors is enough
            log.info("generation worker: still not loaded (%s); next try in %g s", note, wait)
            return
        self._reported = note
        wanted = self.spec.engine
        self.report(
            "engine",
            f"FAIL: engine {wanted} did not load: {note}. The fallback engine renders "
            f"meanwhile; tried again every {self.period_s:g} s and on reload",
        )

    def upscale(self, state: str) -> None:
        """The [upscale] pass as the child describes it (or as a result's engine name shows
        it): a FAIL is reported once per distinct reason, like a model that did not load.
        The pictures still come, enlarged with Lanczos; the child tries the upscaler again
        when it restarts (a reload that changes the engine or [upscale], or a crash)."""
        if not state.startswith("FAIL") or state == self._upscale_reported:
            return
        self._upscale_reported = state
        self.report("upscale", f"{state}; pictures are enlarged with Lanczos instead")

    def ask(self) -> bool:
        """Try the wanted engine again at the next idle moment (a show reload asks)."""
        if self.problem:
            self._asked = True
        return self._asked

    def due(self, now: float) -> bool:
        """Time to start a child for the wanted engine? A model path that still does not
        exist cannot load: then the next try waits another period, without the seconds a
        torch import costs."""
        if not self.problem or not (self._asked or now >= self._retry_at):
            return False
        if gone := missing_paths(self.spec):
            log.debug("generation worker: %s still missing; next try later", gone[0])
            self._asked, self._retry_at = False, now + self.period_s
            return False
        return True

    def started(self) -> None:
        """A child for the wanted engine was started; its hello says how it went."""
        self.tries += 1
        self._asked, self._retry_at = False, math.inf

    def health(self, now: float) -> dict[str, Any]:
        """The worker status section's part: FAIL with the reason while degraded."""
        if not self.problem:
            return {"degraded": False, "engine_retries": self.tries}
        wait = self._retry_at - now
        return {
            "degraded": True,
            "model": f"FAIL: {self.problem}",
            "next_try_in_s": round(max(0.0, wait), 1) if math.isfinite(wait) else 0.0,
            "engine_retries": self.tries,
        }
