"""What a running show starts from: the run options, the fresh-mode counts, the
director at the count on disk and the hours of now, and the painting on the wall."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from installation.app.contracts import Worker
from installation.cache.cached_worker import CachedWorker
from installation.cache.prefill import prefill_for
from installation.core.director import Director, DirectorConfig
from installation.core.schedule import Schedule
from installation.core.variations import Variation
from installation.show.changes import restart_keys
from installation.show.schema import DisplaySection, Show, variation_rule

log = logging.getLogger("installation.app")

if TYPE_CHECKING:
    from installation.storage.state import CountWriter


@dataclass
class RunOptions:
    window: bool = False  # force a window instead of fullscreen
    rehearsal: bool = False  # keyboard throws (and, with live reload, error overlays)
    exit_after: float | None = None  # stop after this many seconds (headless runs, tests)
    screenshot_dir: Path | None = None  # save a PNG of each presented variation
    auto_throw: float | None = None  # throw at random every N seconds (demo, soak)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FreshCounts:
    """Fresh mode: the count writer and the count and repeats read at start, and what
    was wrong with state.json if it was damaged (already logged; the status shows it)."""

    writer: CountWriter
    count: int = 0
    repeats: dict[str, int] = field(default_factory=dict)
    problem: str | None = None


def give_up_after_s(show: Show) -> float:
    return 2 * show.engine.worker_timeout_s + 30


def director_config(show: Show) -> DirectorConfig:
    return DirectorConfig(
        show.dice.count,
        show.dice.faces,
        show.display.attract_after_s,
        give_up_after_s=give_up_after_s(show),
    )


def display_for_reload(running: DisplaySection, new: Show) -> DisplaySection:
    """A reloaded show's display settings (its [display], or its first screen's) with the
    window's restart-only keys (and the command line's --window and --rehearsal, which the
    running config carries) kept as they run."""
    from installation.show.schema_screens import resolved_display

    kept = {k: getattr(running, k) for k in (*restart_keys("display"), "rehearsal_keys")}
    return resolved_display(new).model_copy(update=kept)


def schedule_for(show: Show) -> Schedule:
    return show.schedule.build() if show.schedule else Schedule.always_open()


def new_director(
    show: Show,
    counts: FreshCounts | None,
    *,
    clock: Callable[[], float],
    wall: Callable[[], float],
) -> Director:
    """The director for a show, at the count on disk and the opening hours of now."""
    phase = schedule_for(show).phase_at(datetime.fromtimestamp(wall(), UTC))
    return Director(
        director_config(show),
        variation_rule(show),
        now=clock(),
        count=counts.count if counts else 0,
        repeats=counts.repeats if counts else {},
        is_open=phase == "open",
    )


def artwork_for(show: Show, fault: Callable[[str, str], None]) -> np.ndarray:
    """The first painting (the attract screen), or a placeholder if it cannot be read."""
    from installation.engines.images import load_rgb

    paintings = show.artwork.paintings
    if paintings:
        try:
            return load_rgb(show.resolve(paintings[0]))
        except Exception as e:  # the loader checked it; a file removed since must not stop us
            fault("artwork", f"cannot read {paintings[0]}: {e}")
    from installation.engines.images import placeholder

    params = variation_rule(show).params
    return placeholder((params.width, params.height), show.show.title or show.show.name)


def refresh_prefill(
    worker: Worker, show: Show, next_variation: Callable[[tuple[int, ...]], Variation]
) -> None:
    """The cache's background plan follows the show now running; stale entries simply
    miss, since cache keys hash the prompt, parameters, paintings and model."""
    if not isinstance(worker, CachedWorker) or not show.cache.prerender:
        return
    rule = variation_rule(show)
    budget = worker.cache.capacity(rule.params)
    worker.set_prefill(prefill_for(rule, show.dice.count, budget, next_variation))
