"""Slides for the likely next pictures, painted before anyone throws.

On a cache hit the image costs nothing, but its screen-sized slide took a few ms to tens
of ms to paint (more under load, 45-90 ms at 4K), so the picture went up a frame or more
after the throw. Every PREPAINT_EVERY_S the app asks the screen to paint, when idle, the
slide of each outcome whose next variation is in the cache's memory, with the label it
will carry; the screen keeps what fits its budget (display/slides.py PreparedSlides).

The walk runs on the frame thread, so it is spread over frames: PER_FRAME outcomes a
frame (each a variation derived, a cache lookup and a label: about 15 µs), so three dice's
216 outcomes take six frames of about half a millisecond instead of one of 3-5 ms.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from installation.core.variations import Variation
from installation.show.schema import DiceSection

PREPAINT_EVERY_S = 1.0  # a new walk this long after the last one began
MAX_OUTCOMES = 216  # three six-sided dice; larger shows pre-paint the first ones
PER_FRAME = 36  # outcomes looked at per frame

NextVariation = Callable[[tuple[int, ...]], Variation]
LabelFor = Callable[[Variation, str], Any]


class Planner(Protocol):
    def next_variation(self, faces: tuple[int, ...]) -> Variation: ...


class Labeller(Protocol):
    def label_for(self, variation: Variation, engine: str) -> Any: ...


class Prepainter:
    """The frame loop's walk over the outcomes, PER_FRAME at a time, one walk every
    PREPAINT_EVERY_S (the first at `start`), asking `screen` to prepare the slides of
    the next variations (`planner`, the director) that the worker's cache holds, with
    their labels (`labeller`, the presenter)."""

    def __init__(
        self,
        start: float,
        screen: Any,
        planner: Planner,
        labeller: Labeller,
        per_frame: int = PER_FRAME,
    ) -> None:
        self._due = start
        self._screen, self._planner, self._labeller = screen, planner, labeller
        self._per_frame = max(1, per_frame)
        self._walk: Iterator[tuple[int, ...]] | None = None
        self.asked = 0  # slides asked for, all walks

    @property
    def walking(self) -> bool:
        return self._walk is not None

    def step(self, now: float, worker: Any, dice: DiceSection) -> int:
        """From the frame loop: the next slice of the walk, or a new walk when due; how
        many slides were asked for. `worker`: the one running now (a reload swaps it)."""
        if self._walk is None:
            if now < self._due:
                return 0
            self._due = now + PREPAINT_EVERY_S
            self._walk = _outcomes(dice.count, dice.faces)
        throws = list(itertools.islice(self._walk, self._per_frame))
        if len(throws) < self._per_frame:
            self._walk = None  # done; the next walk when due
        next_variation, label_for = self._planner.next_variation, self._labeller.label_for
        asked = _ask(self._screen, worker, next_variation, label_for, throws)
        self.asked += asked
        return asked


def prepaint(
    screen: Any,
    worker: Any,
    next_variation: NextVariation,
    label_for: LabelFor,
    dice: int,
    faces: int,
) -> int:
    """One whole walk at once: ask `screen.prepare` for every cached next variation; how
    many were asked for. A screen without prepare() or a worker without a cache in front
    does nothing."""
    return _ask(screen, worker, next_variation, label_for, _outcomes(dice, faces))


def _outcomes(dice: int, faces: int) -> Iterator[tuple[int, ...]]:
    return itertools.islice(itertools.product(range(1, faces + 1), repeat=dice), MAX_OUTCOMES)


def _ask(
    screen: Any,
    worker: Any,
    next_variation: NextVariation,
    label_for: LabelFor,
    throws: Iterator[tuple[int, ...]] | list[tuple[int, ...]],
) -> int:
    prepare = getattr(screen, "prepare", None)
    cache = getattr(worker, "cache", None)
    if prepare is None or cache is None or not getattr(cache, "engine_known", False):
        return 0
    asked = 0
    for throw in throws:
        variation = next_variation(throw)
        image = cache.peek(variation, count=False)
        if image is not None:
            prepare(image, label_for(variation, cache.engine_name))
            asked += 1
    return asked
