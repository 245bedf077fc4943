"""Slides for the likely next pictures, painted before anyone throws.

On a cache hit the image costs nothing, but its screen-sized slide took a few ms to tens
of ms to paint (more under load, 45-90 ms at 4K), so the picture went up a frame or more
after the throw. Every PREPAINT_EVERY_S the app asks the screen to paint, when idle, the
slide of each outcome whose next variation is in the cache's memory, with the label it
will carry; the screen keeps what fits its budget (display/slides.py PreparedSlides).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from installation.core.variations import Variation

PREPAINT_EVERY_S = 1.0
MAX_OUTCOMES = 216  # three six-sided dice; larger shows pre-paint the first ones


def prepaint_due(app: Any, now: float, due: float) -> float:
    """From the frame loop: pre-paint when `due`; returns the next due time."""
    if now < due:
        return due
    d = app.show.dice
    label_for = app.presenter.label_for
    prepaint(app.kiosk, app.worker, app.director.next_variation, label_for, d.count, d.faces)
    return now + PREPAINT_EVERY_S


def prepaint(
    screen: Any,
    worker: Any,
    next_variation: Callable[[tuple[int, ...]], Variation],
    label_for: Callable[[Variation, str], Any],
    dice: int,
    faces: int,
) -> int:
    """Ask `screen.prepare` for every cached next variation; how many were asked for.
    A screen without prepare() or a worker without a cache in front does nothing."""
    prepare = getattr(screen, "prepare", None)
    cache = getattr(worker, "cache", None)
    if prepare is None or cache is None or not getattr(cache, "engine_known", False):
        return 0
    asked = 0
    outcomes = itertools.product(range(1, faces + 1), repeat=dice)
    for throw in itertools.islice(outcomes, MAX_OUTCOMES):
        variation = next_variation(throw)
        image = cache.peek(variation, count=False)
        if image is not None:
            prepare(image, label_for(variation, cache.engine_name))
            asked += 1
    return asked
