"""The prefill plan on the biggest outcome spaces the schema accepts: walked lazily, in
the memory a few outcomes take, in fixed and fresh seed mode, also behind a live worker."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from pathlib import Path

import pytest

from installation.cache.cached_worker import CachedWorker
from installation.cache.commands import register
from installation.cache.outcome_cache import OutcomeCache
from installation.cache.prefill import prefill_for
from installation.core.dice import Throw
from installation.core.director import Director, DirectorConfig
from installation.core.variations import RenderParams, VariationRule, derive_variation
from installation.worker.fake import FakeWorker, SolidEngine
from tests.memory import LAZY_BYTES, peak_bytes

HUGE = VariationRule(
    seed_mode="fixed",
    salt="s",
    prompt="a die",
    variants=(),
    negative_prompt="",
    params=RenderParams(strength=0.5, steps=2, guidance=1.0, width=16, height=16),
    faces_per_die=100,
)


def test_a_plan_over_10_to_the_16_outcomes_starts_at_once_in_order() -> None:
    # a budget the schema allows (disk_mb 10**9 of 16x16 pictures): target ~ 10**12
    prefill = prefill_for(HUGE, 8, budget=10**12)
    assert prefill is not None and len(prefill.outcomes) == 10**16
    assert prefill.target == 9 * 10**11
    first = list(itertools.islice(prefill.pending(lambda v: False), 3))
    assert [v.faces for v in first] == [(1,) * 7 + (f,) for f in (1, 2, 3)]
    assert first[0] == derive_variation(HUGE, Throw((1,) * 8))
    assert [v.faces for v in prefill.todo(lambda v: False, limit=2)] == [(1,) * 8, (1,) * 7 + (2,)]

    def plan_1000() -> None:
        for _ in itertools.islice(prefill.plan(lambda v: False), 1000):
            pass

    assert peak_bytes(lambda: prefill_for(HUGE, 8, budget=10**12)) < LAZY_BYTES
    assert peak_bytes(plan_1000) < LAZY_BYTES


def test_fresh_mode_plans_each_outcomes_next_variation_lazily_too() -> None:
    rule = dataclasses.replace(HUGE, seed_mode="fresh")
    director = Director(DirectorConfig(8, 100, 60), rule, now=0.0)
    director.throw(Throw((1,) * 8), 1.0)
    prefill = prefill_for(rule, 8, budget=10**6, next_variation=director.next_variation)
    assert prefill is not None
    first, second = itertools.islice(prefill.pending(lambda v: False), 2)
    assert (first.repeat, first.number, second.repeat) == (2, 2, 1)  # 1-1-..-1 was thrown
    assert peak_bytes(lambda: next(iter(prefill.pending(lambda v: False)))) < LAZY_BYTES


def test_the_cached_worker_feeds_a_huge_plan_one_render_at_a_time(tmp_path: Path) -> None:
    fake = FakeWorker(SolidEngine())
    cache = OutcomeCache(
        tmp_path / "cache", memory_mb=1, disk_mb=0, engine_info={}, painting_stamp="p"
    )
    worker = CachedWorker(fake, cache, prefill_for(HUGE, 8, budget=cache.capacity(HUGE.params)))
    worker.start()
    try:
        for _ in range(21):  # the first poll binds the cache to the engine
            assert worker.poll() == []
        assert fake.renders == worker.prefilled == 20  # one background render a poll
        assert [v.faces for v, _ in fake.history[:2]] == [(1,) * 8, (1,) * 7 + (2,)]
    finally:
        worker.stop()


def test_prerender_streams_a_plan_too_big_to_count_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 1 TB disk budget of 64x64 pictures plans ~77 M outcomes of 10**16: prerender
    does not walk them to count what is cached; it renders as the walk goes."""
    show = tmp_path / "show"
    show.mkdir()
    (show / "show.toml").write_text(
        '[show]\nname = "huge"\n[dice]\ncount = 8\nfaces = 100\n[variations]\n'
        'prompt = "a die"\nwidth = 64\nheight = 64\nengine = "fallback"\n[osc]\nlisten = ""\n'
        "[cache]\nmemory_mb = 0\ndisk_mb = 1000000\n"
    )
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    for _ in range(2):
        args = parser.parse_args(["prerender", str(show), "--limit", "2"])
        assert args.func(args) == 0
    err = capsys.readouterr().err
    assert " of 10000000000000000 outcomes fit the cache; cached ones are skipped" in err
    assert "at most 2 to render" in err and err.count("rendered 2, failed 0") == 2
    keys = sorted(p.name.split("_")[0] for p in (show / "var" / "cache").glob("*.png"))
    assert len(keys) == 4  # the second run skipped the first two and rendered the next two
