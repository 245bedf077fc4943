"""The app asks the screen to pre-paint the cached outcomes' next pictures, with the label
each will carry, without counting them as cache hits; nothing without a cache or a
screen that can prepare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from installation.app.prepaint import prepaint
from installation.core.dice import Throw
from installation.core.variations import RenderParams, Variation, VariationRule, derive_variation
from installation.worker.replies import Result

PARAMS = RenderParams(strength=0.5, steps=2, guidance=1.0, width=16, height=16)
RULE = VariationRule(
    seed_mode="fixed", salt="t", prompt="{die1} {die2}", variants=(("a", "b"), ("c", "d")),
    negative_prompt="", params=PARAMS, faces_per_die=2,
)  # fmt: skip


class Screen:
    def __init__(self) -> None:
        self.asked: list[tuple[np.ndarray, Any]] = []

    def prepare(self, image: np.ndarray, label: Any) -> None:
        self.asked.append((image, label))


def next_variation(faces: tuple[int, ...]) -> Variation:
    return derive_variation(RULE, Throw(faces))


def test_cached_outcomes_are_prepared_with_their_labels(tmp_path: Path) -> None:
    from installation.cache.cached_worker import CachedWorker
    from installation.cache.outcome_cache import OutcomeCache
    from installation.worker.fake import FakeWorker, SolidEngine

    cache = OutcomeCache(
        tmp_path / "cache", memory_mb=8, disk_mb=0, engine_info={}, painting_stamp="p"
    )
    worker = CachedWorker(FakeWorker(SolidEngine()), cache)
    worker.start()
    worker.poll()  # binds the cache to the fake engine
    cached = [next_variation((1, 2)), next_variation((2, 2))]
    for v in cached:
        cache.put(v, np.full((16, 16, 3), v.seed % 256, np.uint8), disk=False)
    hits = cache.counts["hits"]
    screen = Screen()
    label_for = lambda v, engine: (v.key, engine)  # noqa: E731
    assert prepaint(screen, worker, next_variation, label_for, 2, 2) == 2
    assert [label for _, label in screen.asked] == [(v.key, "fake") for v in cached]
    assert screen.asked[0][0] is cache.peek(cached[0], count=False)  # the cache's own array
    assert cache.counts["hits"] == hits  # a look-ahead is not a throw
    worker.stop()


def test_without_a_cache_or_a_preparing_screen_nothing_happens() -> None:
    class Plain:
        def poll(self) -> list[Result]:
            return []

    assert prepaint(Screen(), Plain(), next_variation, lambda v, e: None, 2, 2) == 0
    assert prepaint(object(), Plain(), next_variation, lambda v, e: None, 2, 2) == 0


class EveryOutcomeCached:
    """A cache front that has every variation (the walk's shape is what is tested)."""

    class Cache:
        engine_known, engine_name = True, "fake"

        def __init__(self) -> None:
            self.looked: list[str] = []

        def peek(self, variation: Variation, count: bool = True) -> np.ndarray:
            assert count is False
            self.looked.append(variation.key)
            return np.zeros((2, 2, 3), np.uint8)

    def __init__(self) -> None:
        self.cache = self.Cache()


def test_the_walk_is_spread_over_frames_and_repeats_each_period() -> None:
    from installation.app.prepaint import MAX_OUTCOMES, PER_FRAME, PREPAINT_EVERY_S, Prepainter
    from installation.show.schema import DiceSection

    rule = VariationRule(
        seed_mode="fixed", salt="t", prompt="{die1}", variants=(), negative_prompt="",
        params=PARAMS, faces_per_die=6,
    )  # fmt: skip
    three = DiceSection(count=3, faces=6)
    screen, worker = Screen(), EveryOutcomeCached()

    class Planner:
        def next_variation(self, faces: tuple[int, ...]) -> Variation:
            return derive_variation(rule, Throw(faces))

    class Labeller:
        def label_for(self, variation: Variation, engine: str) -> str:
            return variation.key

    walker = Prepainter(10.0, screen, Planner(), Labeller())
    step = lambda now: walker.step(now, worker, three)  # noqa: E731
    assert step(9.9) == 0 and not walker.walking  # not yet due
    frames = [step(10.0 + i / 60) for i in range(8)]
    assert frames == [PER_FRAME] * (MAX_OUTCOMES // PER_FRAME) + [0, 0]
    assert len(worker.cache.looked) == len(set(worker.cache.looked)) == MAX_OUTCOMES == 216
    assert [label for _, label in screen.asked][:2] == ["1-1-1", "1-1-2"]
    assert step(10.0 + PREPAINT_EVERY_S - 0.01) == 0  # the next walk a period after this one
    assert step(10.0 + PREPAINT_EVERY_S) == PER_FRAME and walker.walking
    assert walker.asked == MAX_OUTCOMES + PER_FRAME
