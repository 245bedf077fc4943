"""The kiosk's slide desk: what it asked the painter for, and what came back.

One owner for the slides in progress (split from kiosk.py): the painter thread, the newest
job per slot not yet on screen (`wanted`), finished slides a Wall holds back until every
window has painted its own (`done`), and the slides painted ahead for likely next pictures
(PreparedSlides). The kiosk places what `finished()` hands back; only the newest job per
slot is ever handed back, so a present superseded while painting is dropped (counted).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pygame

from installation.display.label import LabelInfo
from installation.display.slides import PreparedSlides, SlideJob, SlidePainter, SlideStyle

Finished = tuple[SlideJob, pygame.Surface | None]


class SlideDesk:
    """Jobs out to the painter, slides back to the kiosk (main thread only, but the painter)."""

    def __init__(self) -> None:
        self._painter: SlidePainter | None = None
        self.wanted: dict[str, SlideJob] = {}  # per slot, the newest slide not yet on screen
        self._done: list[Finished] = []  # painted, held back (a Wall's hold)
        self.prepared = PreparedSlides()  # painted ahead of time: prepare()
        self.dropped = 0  # painted, but superseded by a newer job before shown

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
        self.prepared.clear()

    def submit(self, job: SlideJob) -> None:
        """Have `job` painted; it replaces whatever its slot was waiting for."""
        assert self._painter is not None, "the kiosk is not open"
        self.wanted[job.slot] = job
        self._painter.submit(job)

    def ready(self, job: SlideJob, slide: pygame.Surface) -> None:
        """`job`'s slide is painted already (ahead of time): it comes back from the next
        finished() like any other, so a Wall still holds it until every window has its."""
        self.wanted[job.slot] = job
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
        for job, slide in self._painter.take():
            if not self.prepared.done(job, slide):  # painted ahead: kept for its present()
                self._done.append((job, slide))
        out: list[Finished] = []
        kept: list[Finished] = []
        for job, slide in self._done:
            if self.wanted.get(job.slot) is not job:
                self.dropped += 1  # a newer present (or restyle) is on its way
            elif hold and job.kind == "present":
                kept.append((job, slide))
            else:
                del self.wanted[job.slot]
                out.append((job, slide))
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
