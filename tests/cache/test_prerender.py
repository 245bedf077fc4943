"""Pre-rendering: the Prefill policy, the cache in front of the worker, `installation prerender`."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import io
import time
from pathlib import Path

import numpy as np
import pytest

from installation.cache import outcome_cache as cache_mod
from installation.cache.cached_worker import (
    QUIET_AFTER_ANSWER_S,
    CachedWorker,
    open_cache,
    with_cache,
)
from installation.cache.commands import register
from installation.cache.outcome_cache import OutcomeCache
from installation.cache.prefill import prefill_for
from installation.core.dice import Throw, all_outcomes
from installation.core.variations import RenderParams, Variation, VariationRule, derive_variation
from installation.engine_spec import spec_from_show
from installation.engines.fallback import FallbackEngine
from installation.progress import ProgressBar
from installation.show.load import load_show
from installation.show.schema import variation_rule
from installation.worker.client import WorkerClient
from installation.worker.fake import FakeWorker, SolidEngine
from installation.worker.replies import Result, WorkerReply

PARAMS = RenderParams(strength=0.5, steps=2, guidance=1.0, width=64, height=48)
RULE = VariationRule(
    seed_mode="fixed",
    salt="s",
    prompt="a die, {die1}, {die2}",
    variants=(("red", "green", "blue"), ("oil", "ink", "chalk")),
    negative_prompt="",
    params=PARAMS,
    faces_per_die=3,
)
OUTCOMES = list(all_outcomes(2, 3))
SHOW_TOML = """
[show]
name = "tiny"

[dice]
count = 2
faces = 3

[variations]
prompt = "a die, {die1}, {die2}"
variants = [["red", "green", "blue"], ["oil", "ink", "chalk"]]
steps = 2
width = 64
height = 64
engine = "fallback"

[osc]
listen = ""
"""


def var(faces: tuple[int, ...]) -> Variation:
    return derive_variation(RULE, Throw(faces))


# -- the policy ---------------------------------------------------------------------------
def test_fixed_mode_plans_every_outcome_in_order_and_skips_cached() -> None:
    prefill = prefill_for(RULE, 2, budget=100)
    assert prefill is not None and prefill.target == 9
    assert [v.faces for v in prefill.todo(lambda v: False)] == OUTCOMES
    cached = {var((1, 1)), var((2, 3))}
    todo = prefill.todo(lambda v: v in cached)
    assert [v.faces for v in todo] == [f for f in OUTCOMES if f not in ((1, 1), (2, 3))]
    assert [v.faces for v in prefill.todo(lambda v: False, limit=2)] == OUTCOMES[:2]
    assert list(prefill.plan(lambda v: True)) == [None] * 9  # bounded steps, nothing to do


def test_more_outcomes_than_budget_keeps_the_first_and_leaves_room_for_live() -> None:
    five = dataclasses.replace(RULE, faces_per_die=6, variants=())
    prefill = prefill_for(five, 5, budget=1000)
    assert prefill is not None and len(prefill.outcomes) == 7776
    assert prefill.target == 900
    todo = prefill.todo(lambda v: False)
    assert len(todo) == 900 and todo[0].faces == (1, 1, 1, 1, 1)


def test_fresh_mode_needs_the_directors_look_ahead() -> None:
    assert prefill_for(dataclasses.replace(RULE, seed_mode="fresh"), 2, budget=100) is None


def test_fresh_mode_replans_only_the_thrown_outcome() -> None:
    """Fresh seeds follow how often that outcome was thrown, so after a throw only that
    outcome's next variation is new; every other prepared one stays valid."""
    from installation.core.director import Director, DirectorConfig

    rule = dataclasses.replace(RULE, seed_mode="fresh")
    director = Director(DirectorConfig(2, rule.faces_per_die, 60), rule, now=0.0)
    prefill = prefill_for(rule, 2, budget=100, next_variation=director.next_variation)
    assert prefill is not None
    cached = {(v.key, v.seed) for v in prefill.todo(lambda v: False)}
    director.throw(Throw((2, 2)), 1.0)
    replanned = prefill.todo(lambda v: (v.key, v.seed) in cached)
    assert [v.faces for v in replanned] == [(2, 2)]


# -- the cache in front of the worker ------------------------------------------------------
def new_cache(tmp_path: Path, info: dict[str, str] | None = None) -> OutcomeCache:
    return OutcomeCache(
        tmp_path / "cache", memory_mb=8, disk_mb=8, engine_info=info or {}, painting_stamp="p"
    )


def poll_until(worker: CachedWorker, n: int, max_polls: int = 500) -> list[WorkerReply]:
    """Poll like the frame loop until n outcomes came out (disk loads come from a thread)."""
    out: list[WorkerReply] = []
    for _ in range(max_polls):
        out += worker.poll()
        if len(out) >= n:
            return out
        time.sleep(0.002)
    raise AssertionError(f"only {out!r} after {max_polls} polls")


def test_second_throw_is_answered_from_cache_without_the_worker(tmp_path: Path) -> None:
    fake = FakeWorker(SolidEngine())
    worker = CachedWorker(fake, new_cache(tmp_path))
    worker.start()
    v = var((1, 2))
    worker.request(v)
    (first,) = poll_until(worker, 1)
    assert isinstance(first, Result) and first.engine == "fake" and fake.renders == 1
    worker.request(v)
    (again,) = worker.poll()
    assert isinstance(again, Result) and again.ms == 0.0
    assert np.array_equal(again.image, first.image)
    assert fake.renders == 1 and len(fake.history) == 1
    worker.stop()
    assert len(list((tmp_path / "cache").glob("*.png"))) == 1  # stop finishes the writes


def test_after_a_restart_disk_hits_come_without_rendering(tmp_path: Path) -> None:
    first = CachedWorker(FakeWorker(SolidEngine()), new_cache(tmp_path))
    first.start()
    vs = [var(f) for f in OUTCOMES[:3]]
    for v in vs:
        first.request(v)
        poll_until(first, 1)
    first.stop()
    fake = FakeWorker(SolidEngine())
    worker = CachedWorker(fake, new_cache(tmp_path))
    worker.start()
    worker.poll()  # the hello binds the cache to the engine
    for v in vs:
        worker.request(v)
    got = poll_until(worker, 3)
    assert {o.variation for o in got} == set(vs) and fake.renders == 0
    assert worker.stats()["disk_hits"] == 3
    worker.stop()


def test_corrupt_disk_entry_is_rendered_live_instead(tmp_path: Path) -> None:
    first = CachedWorker(FakeWorker(SolidEngine()), new_cache(tmp_path))
    first.start()
    v = var((2, 2))
    first.request(v)
    poll_until(first, 1)
    first.stop()
    (png,) = (tmp_path / "cache").glob("*.png")
    png.write_bytes(png.read_bytes()[:100])  # a power cut mid-copy, say
    fake = FakeWorker(SolidEngine())
    worker = CachedWorker(fake, new_cache(tmp_path))
    worker.start()
    worker.poll()
    worker.request(v)
    (out,) = poll_until(worker, 1)
    assert isinstance(out, Result) and out.variation == v and out.engine == "fake"
    assert fake.renders == 1 and fake.history == [(v, True)]
    assert worker.stats()["corrupt"] == 1
    worker.stop()


def test_prefill_renders_every_outcome_in_the_background_and_keeps_results(
    tmp_path: Path,
) -> None:
    fake = FakeWorker(SolidEngine())
    worker = CachedWorker(fake, new_cache(tmp_path), prefill_for(RULE, 2, budget=100))
    worker.start()
    for _ in range(30):
        assert worker.poll() == []  # background results never reach the app
    assert fake.renders == 9 and worker.prefilled == 9
    assert all(not live for _, live in fake.history)
    assert all(worker.cache.contains(var(f)) for f in OUTCOMES)
    worker.request(var((3, 3)))
    (hit,) = worker.poll()
    assert isinstance(hit, Result) and fake.renders == 9
    worker.stop()


def test_live_throw_goes_before_queued_background_work(tmp_path: Path) -> None:
    fake = FakeWorker(SolidEngine(), auto=False)
    worker = CachedWorker(fake, new_cache(tmp_path), prefill_for(RULE, 2, budget=100))
    worker.start()
    worker.poll()  # binds, sends two background requests (BACKGROUND_DEPTH)
    assert fake.queued == 2
    live = var((3, 3))
    worker.request(live)
    fake.step()
    (out,) = worker.poll()
    assert out.variation == live
    assert fake.history[-1] == (live, True)


def test_fallback_stand_ins_are_never_cached(tmp_path: Path) -> None:
    fake = FakeWorker(SolidEngine(), ready_after_s=1e9)  # never ready: fallback answers
    worker = CachedWorker(fake, new_cache(tmp_path, {"engine": "fake"}))
    worker.start()
    v = var((1, 1))
    worker.request(v)
    (out,) = worker.poll()
    assert isinstance(out, Result) and out.fallback
    assert not worker.cache.contains(v)


def test_results_of_an_engine_that_renamed_itself_are_shown_not_stored(tmp_path: Path) -> None:
    """An upscaler that failed mid-run renames its engine (engines/upscale.py NOT_UPSCALED):
    the cache keyed its pictures by the engine the hello described, so it keeps none."""
    solid = SolidEngine()
    worker = CachedWorker(FakeWorker(solid), new_cache(tmp_path, {"engine": "fake"}))
    worker.start()
    first, second = var((1, 1)), var((1, 2))
    worker.request(first)
    poll_until(worker, 1)
    assert worker.cache.contains(first)
    solid.name = "fake, not upscaled"
    worker.request(second)
    (out,) = poll_until(worker, 1)
    assert isinstance(out, Result) and out.engine == "fake, not upscaled" and not out.fallback
    assert not worker.cache.contains(second)
    worker.stop()


def test_with_cache_builds_from_the_show(tmp_path: Path) -> None:
    (tmp_path / "show.toml").write_text(SHOW_TOML)
    show = load_show(tmp_path)
    fake = FakeWorker(SolidEngine())
    wrapped = with_cache(show, fake)
    assert isinstance(wrapped, CachedWorker) and wrapped.prefill is not None
    assert wrapped.cache.dir == show.storage_dir / "cache"
    assert wrapped.engine_name == fake.engine_name  # the rest of the contract passes through
    off = show.model_copy(
        update={"cache": show.cache.model_copy(update={"memory_mb": 0, "disk_mb": 0})}
    )
    assert with_cache(off, fake) is fake


# -- the command ----------------------------------------------------------------------------
def prerender(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["prerender", *argv])
    return int(args.func(args))


@pytest.fixture
def show_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    folder.mkdir()
    (folder / "show.toml").write_text(SHOW_TOML)
    return folder


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = FallbackEngine.render

    def counting(self: FallbackEngine, v: Variation) -> np.ndarray:
        seen.append(v.key)
        return real(self, v)

    monkeypatch.setattr(FallbackEngine, "render", counting)
    return seen


def test_prerender_fills_the_cache_and_a_second_run_renders_nothing(
    show_dir: Path, renders: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert prerender(str(show_dir)) == 0
    assert len(renders) == 9
    files = sorted((show_dir / "var" / "cache").glob("*.png"))
    assert len(files) == 9
    err = capsys.readouterr().err
    assert "9 to render" in err and "9/9 100%" in err and "ETA" in err
    assert prerender(str(show_dir)) == 0
    assert len(renders) == 9
    assert "0 to render" in capsys.readouterr().err


def test_limit_then_resume(show_dir: Path, renders: list[str]) -> None:
    assert prerender(str(show_dir), "--limit", "4") == 0
    assert renders == ["1-1", "1-2", "1-3", "2-1"]
    assert prerender(str(show_dir)) == 0
    assert len(renders) == 9 and len(set(renders)) == 9


def test_prerendered_pixels_are_what_the_kiosk_worker_gives(show_dir: Path) -> None:
    assert prerender(str(show_dir)) == 0
    show = load_show(show_dir)
    worker = CachedWorker(WorkerClient(spec_from_show(show)), open_cache(show))
    v = derive_variation(variation_rule(show), Throw((2, 3)))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not worker.ready and time.monotonic() < deadline:
            worker.poll()
            time.sleep(0.01)
        worker.request(v)
        (out,) = poll_until(worker, 1, max_polls=5000)
        assert isinstance(out, Result) and out.ms == 0.0  # from the prerendered cache
        direct = FallbackEngine(spec_from_show(show).paintings).render(v)
        assert np.array_equal(out.image, direct)
        assert worker.health()["renders"] == 0
    finally:
        worker.stop()


def test_prerender_reports_a_full_disk(
    show_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_mod, "save_png", full)
    assert prerender(str(show_dir)) == 1
    assert "could not write to the cache" in capsys.readouterr().err


def test_prerender_invalid_show_and_bad_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "show.toml").write_text("[dice]\ncount = 0\n")
    assert prerender(str(tmp_path)) == 2
    assert "show.toml:2: dice.count" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        prerender(str(tmp_path), "--limit", "-3")
    assert "expected a whole number 0 or more, got '-3'" in capsys.readouterr().err


def test_prerender_fresh_mode_renders_each_outcomes_next_variation(
    show_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = show_dir / "show.toml"
    toml.write_text(toml.read_text().replace("[variations]", '[variations]\nseed_mode = "fresh"'))
    assert prerender(str(show_dir)) == 0
    first = capsys.readouterr().err
    assert "0 already cached" in first
    assert prerender(str(show_dir)) == 0
    assert " 0 to render" in capsys.readouterr().err


# -- the progress bar ------------------------------------------------------------------------
def test_progress_is_one_line_per_tenth_without_a_tty() -> None:
    t = [0.0]
    out = io.StringIO()
    bar = ProgressBar(40, out, tty=False, clock=lambda: t[0])
    for done in range(41):
        t[0] = done * 2.0
        bar.update(done)
    bar.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in out.getvalue()
    assert lines[0].startswith("prerender [") and " 4/40  10%" in lines[0]
    assert "2.00 s each  ETA 01:12" in lines[0]  # 36 left at 2 s each
    assert lines[-1].endswith("ETA 00:00")


def test_progress_redraws_in_place_on_a_tty() -> None:
    out = io.StringIO()
    bar = ProgressBar(3, out, tty=True, clock=lambda: 0.0)
    for done in range(4):
        bar.update(done)
    bar.finish()
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "ETA --:--" in text.split("\r")[1]


# -- bookkeeping the worker can upset -------------------------------------------------------
def fill(worker: CachedWorker, polls: int = 40) -> None:
    """Let the prefill run: the (auto) fake renders one job per poll (after the pause that
    follows a live answer)."""
    time.sleep(QUIET_AFTER_ANSWER_S)
    for _ in range(polls):
        worker.poll()


@pytest.mark.parametrize("order", ["planned-after-the-throw", "planned-before-the-throw"])
def test_prefill_goes_on_after_the_worker_drops_a_superseded_request(
    tmp_path: Path, order: str
) -> None:
    """B is both a visitor's throw and the next planned background render; a newer
    throw C supersedes B in the worker, which drops it. Pre-rendering must go on."""
    fake = FakeWorker(SolidEngine(), auto=False)
    prefill = prefill_for(RULE, 2, budget=100)
    b, c = var((1, 1)), var((3, 3))
    if order == "planned-after-the-throw":
        worker = CachedWorker(fake, new_cache(tmp_path))
        worker.start()
        worker.poll()  # binds the engine; nothing planned yet
        worker.request(b)
        worker.set_prefill(prefill)
        worker.poll()  # plans; b is the first outcome
    else:
        worker = CachedWorker(fake, new_cache(tmp_path), prefill)
        worker.start()
        worker.poll()  # binds and sends b (and the next outcome) as background work
        assert fake.queued == 2
        worker.request(b)
    worker.request(c)
    fake.step()
    assert [o.variation for o in worker.poll()] == [c]
    fake.auto = True
    fill(worker)
    assert all(worker.cache.contains(var(f)) for f in OUTCOMES), worker.stats()
    assert worker.prefilled >= 8 and not worker.stats()["prefilling"]


def test_a_failed_disk_read_never_overrides_a_newer_throw(tmp_path: Path) -> None:
    """B was on disk but its file turned out corrupt; meanwhile C was thrown. B is not
    sent to the worker again: that would supersede C, which then never renders."""
    first = CachedWorker(FakeWorker(SolidEngine()), new_cache(tmp_path))
    first.start()
    b, c = var((2, 2)), var((3, 1))
    first.request(b)
    poll_until(first, 1)
    first.stop()
    (png,) = (tmp_path / "cache").glob("*.png")
    png.write_bytes(png.read_bytes()[:100])
    fake = FakeWorker(SolidEngine(), auto=False)
    worker = CachedWorker(fake, new_cache(tmp_path))
    worker.start()
    worker.poll()
    taken: list[object] = []
    real_take = worker._io.take

    def take() -> list:
        got = real_take()
        taken.extend(got)
        return got

    worker._io.take = take  # type: ignore[method-assign]
    worker.request(b)  # on disk: read by the thread
    worker.request(c)  # a miss: to the worker
    for _ in range(2000):
        if taken:
            break
        worker.poll()
        time.sleep(0.002)
    assert taken and worker.stats()["corrupt"] == 1
    fake.step()
    assert [o.variation for o in worker.poll()] == [c]
    assert fake.history == [(c, True)]


def test_a_failed_disk_read_of_the_newest_throw_is_rendered(tmp_path: Path) -> None:
    """The same failure with nothing newer: the throw is rendered after all."""
    first = CachedWorker(FakeWorker(SolidEngine()), new_cache(tmp_path))
    first.start()
    b = var((2, 2))
    first.request(b)
    poll_until(first, 1)
    first.stop()
    (png,) = (tmp_path / "cache").glob("*.png")
    png.write_bytes(b"not a png")
    fake = FakeWorker(SolidEngine())
    worker = CachedWorker(fake, new_cache(tmp_path))
    worker.start()
    worker.poll()
    worker.request(b)
    (out,) = poll_until(worker, 1)
    assert out.variation == b and out.engine == "fake" and fake.history == [(b, True)]


def test_set_prefill_replaces_the_plan_and_starts_it(tmp_path: Path) -> None:
    """A show reload hands over a new plan; it starts at once, even when the old one
    had finished and nobody has thrown since."""
    fake = FakeWorker(SolidEngine())
    worker = CachedWorker(fake, new_cache(tmp_path), prefill_for(RULE, 2, budget=100))
    worker.start()
    fill(worker)
    assert worker.prefilled == 9
    edited = dataclasses.replace(RULE, variants=(("red", "GOLD", "blue"), RULE.variants[1]))
    new = prefill_for(edited, 2, budget=100)
    worker.set_prefill(new)
    assert worker.prefill is new
    fill(worker)
    assert worker.prefilled == 12 and fake.renders == 12  # only the three edited outcomes
    assert all(worker.cache.contains(derive_variation(edited, Throw(f))) for f in OUTCOMES)
    worker.set_prefill(None)
    worker.request(var((1, 1)))  # a hit; nothing is planned any more
    fill(worker, 5)
    assert fake.renders == 12 and worker.prefill is None


def test_results_carry_what_made_them(tmp_path: Path) -> None:
    """The archive needs the describe() of the engine that made each image: the worker's
    for renders, the cache's engine (without run-to-run values) for hits."""
    fake = FakeWorker(SolidEngine())
    fake.engine.describe = lambda: {"engine": "fake", "model": "m1", "pid": "42"}  # type: ignore[method-assign]
    worker = CachedWorker(fake, new_cache(tmp_path))
    worker.start()
    v = var((1, 3))
    worker.request(v)
    poll_until(worker, 1)
    worker.request(v)
    (hit,) = worker.poll()
    assert isinstance(hit, Result) and hit.ms == 0.0
    assert hit.describe == {"engine": "fake", "model": "m1"}
    worker.stop()


def test_background_work_the_worker_drops_silently_is_forgotten_when_it_idles(
    tmp_path: Path,
) -> None:
    """Whatever the reason a worker drops a background request, once it is idle with
    nothing queued the plan moves on instead of waiting for an answer forever."""

    class Forgetful(FakeWorker):
        def request(self, variation: Variation, live: bool = True) -> None:
            if live:
                super().request(variation, live)
            else:
                self.history.append((variation, live))  # heard, never done

    fake = Forgetful(SolidEngine())
    worker = CachedWorker(fake, new_cache(tmp_path), prefill_for(RULE, 2, budget=100))
    worker.start()
    fill(worker, 30)
    assert [v.faces for v, _ in fake.history] == OUTCOMES  # each asked for once, in order
    assert fake.renders == 0 and not worker.stats()["prefilling"]


def test_fresh_mode_drops_a_variation_from_the_cache_once_it_is_used(tmp_path: Path) -> None:
    """A thrown fresh variation never comes back: keeping it would fill the budget with the
    past (the 20-minute soak grew by ~3 MB a minute before this)."""
    fake = FakeWorker(SolidEngine())
    cache = new_cache(tmp_path)
    worker = CachedWorker(fake, cache, single_use=True)
    worker.start()
    v = var((1, 2))
    worker.request(v)
    (first,) = poll_until(worker, 1)
    assert isinstance(first, Result)
    worker.stop()  # finishes the queued disk work: the write, then the discard
    assert not cache.contains(v)
    assert list((tmp_path / "cache").glob("*.png")) == []
    assert cache.stats()["memory_bytes"] == 0
