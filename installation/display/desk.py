"""The kiosk's slide desk: what it asked the painter for, and what came back.

One owner for the slides in progress (split from kiosk.py): the painter thread, the newest
job per slot not yet on screen (`wanted`), finished slides a Wall holds back until every
window has painted its own (`done`), and the slides painted ahead for likely next pictures
(PreparedSlides). The kiosk places what `finished()` hands back; only the newest job per
slot is ever handed back, so a present superseded while painting is dropped (counted).
The newest present's slide times (`last_present`) show where a picture waited for its slide.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pygame

from installation.display.label import LabelInfo
from installation.display.slides import PreparedSlides, SlideJob, SlidePainter, SlideStyle

Finished = tuple[SlideJob, pygame.Surface | None]
NAN = math.nan


@dataclass(frozen=True)
class SlideTimes:
    """A present's slide (monotonic seconds): asked for, painting began and ended, handed
    to the kiosk to place. `ahead`: painted ahead of time, placed at once (no painting)."""

    asked: float
    began: float = NAN
    painted: float = NAN
    handed: float = NAN
    ahead: bool = False

    def ms(self) -> dict[str, float]:
        """The waits in ms: for the painter, painting, for the frame loop to take it."""
        return {
            "queued": (self.began - self.asked) * 1000.0,
            "painting": (self.painted - self.began) * 1000.0,
            "to_frame": (self.handed - self.painted) * 1000.0,
        }


class SlideDesk:
    """Jobs out to the painter, slides back to the kiosk (main thread only, but the painter)."""

    def __init__(self) -> None:
        self._painter: SlidePainter | None = None
        self.wanted: dict[str, SlideJob] = {}  # per slot, the newest slide not yet on screen
        self._done: list[Finished] = []  # painted, held back (a Wall's hold)
        self.prepared = PreparedSlides()  # painted ahead of time: prepare()
        self.dropped = 0  # painted, but superseded by a newer job before shown
        self._asked: dict[str, float] = {}  # per slot, when its wanted job was asked for
        self._times: dict[SlideJob, tuple[float, float]] = {}  # painted: (began, ended)
        self._adopted: dict[SlideJob, SlideJob] = {}  # prepare job -> the present it serves
        self._ahead: set[SlideJob] = set()  # handed over painted ahead (ready())
        self.last_present: SlideTimes | None = None  # the newest present handed out

    @property
    def open(self) -> bool:
        return self._painter is not None

    def start(
        self,
        on_done: Callable[[], None],
        render: Callable[[SlideJob], pygame.Surface] | None = None,
    ) -> None:
        """A painter thread for this display session; `on_done` runs when a slide is ready.
        `render` paints a job (tests: a slow painter); default slides.render_slide."""
        self._painter = SlidePainter(render, on_done=on_done)

    def close(self) -> None:
        """Stop the painter (it may be painting: before pygame.quit()) and forget the slides."""
        if self._painter is not None:
            self._painter.close()
        self._painter, self.wanted, self._done = None, {}, []
        self._times.clear()
        self._adopted.clear()
        self._ahead.clear()
        self.prepared.clear()

    def submit(self, job: SlideJob) -> None:
        """Have `job` painted; it replaces whatever its slot was waiting for. A present whose
        slide is being painted ahead (prepare) waits for that one instead of a second."""
        assert self._painter is not None, "the kiosk is not open"
        self.wanted[job.slot] = job
        self._asked[job.slot] = time.monotonic()
        ahead = None
        if job.kind == "present":
            ahead = self.prepared.pending(job.image, job.label, job.style)
        if ahead is None:
            self._painter.submit(job)
            return
        self._adopted[ahead] = job
        self._painter.hurry(ahead.slot)  # before other slides painted ahead
        self._painter.drop(job.slot)  # an older present still queued for the slot

    def ready(self, job: SlideJob, slide: pygame.Surface) -> None:
        """`job`'s slide is painted already (ahead of time): it comes back from the next
        finished() like any other, so a Wall still holds it until every window has its."""
        now = time.monotonic()
        self.wanted[job.slot] = job
        self._asked[job.slot] = now
        self._times[job] = (now, now)
        self._ahead.add(job)
        self._done.append((job, slide))

    def find(
        self, image: np.ndarray, label: LabelInfo | None, style: SlideStyle
    ) -> pygame.Surface | None:
        """The slide painted ahead for this picture and look, if any."""
        return self.prepared.find(image, label, style)

    def prepare(
        self, image: np.ndarray, rgb: np.ndarray, label: LabelInfo | None, style: SlideStyle
    ) -> None:
        """Paint ahead, when the painter is idle, the slide of a picture that may come next."""
        if self._painter is not None:
            self.prepared.ask(self._painter, rgb, image, label, style)

    def finished(self, hold: bool = False) -> list[Finished]:
        """The newest finished job per slot, to place now, in the order painted. `hold`
        keeps a finished present back (it comes with a later call without hold)."""
        if self._painter is None:
            return []
        for job, slide, times in self._painter.take():
            present = self._adopted.pop(job, None)  # painted ahead for a present now due
            if present is not None:
                self._done.append((present, slide))
                self._times[present] = times
            if not self.prepared.done(job, slide):  # painted ahead: kept for its present()
                self._done.append((job, slide))
                self._times[job] = times
        out: list[Finished] = []
        kept: list[Finished] = []
        for job, slide in self._done:
            if self.wanted.get(job.slot) is not job:
                self.dropped += 1  # a newer present (or restyle) is on its way
                self._times.pop(job, None)
                self._ahead.discard(job)
            elif hold and job.kind == "present":
                kept.append((job, slide))
            else:
                del self.wanted[job.slot]
                out.append((job, slide))
                began, painted = self._times.pop(job, (NAN, NAN))
                if job.kind == "present":
                    asked, ahead = self._asked.get(job.slot, NAN), job in self._ahead
                    self.last_present = SlideTimes(
                        asked, began, painted, time.monotonic(), ahead=ahead
                    )
                self._ahead.discard(job)
        self._done = kept
        return out

    def painting_present(self) -> bool:
        """A present was asked for and its slide is still being painted."""
        job = self.wanted.get("last")
        return (
            job is not None and job.kind == "present" and all(j is not job for j, _ in self._done)
        )

    def wait_idle(self, timeout: float) -> bool:
        """Block until the painter is idle (tests, tools and a Wall's wait_ready)."""
        return self._painter is None or self._painter.wait_idle(timeout)
