"""What a cache hit hands on: its file on disk (so the archive links it instead of writing
the pixels again), and a pause in planning while its picture goes up."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image

from installation.cache.cached_worker import QUIET_AFTER_ANSWER_S, CachedWorker
from installation.cache.disk_io import DiskIO
from installation.cache.outcome_cache import OutcomeCache
from installation.cache.prefill import prefill_for
from installation.worker.fake import FakeWorker, SolidEngine
from installation.worker.replies import Result
from tests.cache.test_prerender import OUTCOMES, RULE, poll_until, var


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def cache_at(tmp_path: Path, disk_mb: int) -> OutcomeCache:
    return OutcomeCache(
        tmp_path / "cache", memory_mb=8, disk_mb=disk_mb, engine_info={}, painting_stamp="p"
    )


def test_a_hit_on_disk_names_its_file_and_a_memory_only_hit_none(tmp_path: Path) -> None:
    for disk_mb, on_disk in ((8, True), (0, False)):
        worker = CachedWorker(FakeWorker(SolidEngine()), cache_at(tmp_path / str(disk_mb), disk_mb))
        worker.start()
        v = var((2, 3))
        worker.request(v)
        (first,) = poll_until(worker, 1)
        assert isinstance(first, Result) and first.source is None  # rendered, not a hit
        worker.stop()  # the disk write is done
        worker.start()
        worker.request(v)
        (hit,) = poll_until(worker, 1)
        assert isinstance(hit, Result) and hit.ms == 0.0
        if on_disk:
            assert hit.source is not None and hit.source.parent == tmp_path / "8" / "cache"
            with Image.open(hit.source) as im:  # exactly the pixels shown
                assert np.array_equal(np.asarray(im), hit.image)
        else:
            assert hit.source is None
        worker.stop()


def test_planning_waits_while_a_live_answer_goes_up(tmp_path: Path) -> None:
    clock = Clock()
    fake = FakeWorker(SolidEngine())
    cache = cache_at(tmp_path, 8)
    worker = CachedWorker(fake, cache, prefill_for(RULE, 2, budget=100), clock=clock)
    worker.start()
    try:
        worker.request(var(OUTCOMES[-1]))  # live, before any plan
        (answer,) = poll_until(worker, 1)
        assert isinstance(answer, Result)
        live_only = len(fake.history)
        for _ in range(20):  # frames within the quiet window: nothing planned
            assert worker.poll() == []
        assert len(fake.history) == live_only
        clock.t += QUIET_AFTER_ANSWER_S
        for _ in range(20):
            worker.poll()
        assert len(fake.history) > live_only
        assert all(not live for _, live in fake.history[live_only:])  # background work
    finally:
        worker.stop()


def test_a_disk_load_wakes_the_frame_loop_when_done(tmp_path: Path) -> None:
    cache = cache_at(tmp_path, 8)
    cache.set_engine({"engine": "fake"})
    v = var((1, 2))
    picture = np.full((*v.params.output_size()[::-1], 3), 90, np.uint8)
    assert cache.write(v, picture)
    wake = threading.Event()
    io = DiskIO(cache, wake=wake)
    io.load(v)
    assert wake.wait(10)  # the frame loop's pacing ends its wait: no frame's delay
    ((loaded, image),) = io.take()
    assert loaded == v and image is not None and np.array_equal(image, picture)
    io.stop()
