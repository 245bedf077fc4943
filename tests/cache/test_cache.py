"""The outcome cache on a real disk: keys, memory and disk LRU, restarts, corruption, full disks."""

from __future__ import annotations

import dataclasses
import errno
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from installation.cache import outcome_cache as cache_mod
from installation.cache.keys import cache_key, engine_stamp, painting_stamps
from installation.cache.outcome_cache import MB, OutcomeCache
from installation.core.dice import Throw, all_outcomes
from installation.core.variations import RenderParams, Variation, VariationRule, derive_variation
from tests.storage.vanishing import vanish_first_png

PARAMS = RenderParams(strength=0.5, steps=2, guidance=1.0, width=64, height=48)
ENGINE = {"engine": "fallback", "algorithm": "fallback-1", "numpy": "2.0"}
RULE = VariationRule(
    seed_mode="fixed",
    salt="s",
    prompt="a die, {die1}, {die2}",
    variants=(("red", "green", "blue"), ("oil", "ink", "chalk")),
    negative_prompt="text",
    params=PARAMS,
    faces_per_die=3,
)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def var(faces: tuple[int, ...] = (1, 2), rule: VariationRule = RULE) -> Variation:
    return derive_variation(rule, Throw(faces))


def image_for(v: Variation, noise: bool = False) -> np.ndarray:
    p = v.params
    if noise:  # incompressible: PNG size close to raw size
        return np.random.default_rng(v.seed).integers(0, 256, (p.height, p.width, 3), np.uint8)
    return np.full((p.height, p.width, 3), (v.seed % 256, 80, 160), np.uint8)


def make(tmp_path: Path, **kw: Any) -> OutcomeCache:
    args: dict[str, Any] = {
        "memory_mb": 8, "disk_mb": 8, "engine_info": ENGINE, "painting_stamp": "p0",
    }  # fmt: skip
    args.update(kw)
    return OutcomeCache(tmp_path / "cache", **args)


def pngs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("*.png"))


# -- keys --------------------------------------------------------------------------------
def test_key_follows_what_shapes_the_pixels_and_nothing_else() -> None:
    v, e = var(), engine_stamp(ENGINE)
    base = cache_key(v, e, "p0")
    assert cache_key(v, e, "p0") == base
    assert cache_key(dataclasses.replace(v, number=99, faces=(3, 3), key="3-3"), e, "p0") == base
    changed = [
        cache_key(dataclasses.replace(v, seed=v.seed + 1), e, "p0"),
        cache_key(dataclasses.replace(v, prompt="x"), e, "p0"),
        cache_key(dataclasses.replace(v, negative_prompt="y"), e, "p0"),
        cache_key(dataclasses.replace(v, params=dataclasses.replace(PARAMS, steps=3)), e, "p0"),
        cache_key(dataclasses.replace(v, painting=1), e, "p0"),
        cache_key(v, engine_stamp({**ENGINE, "numpy": "2.1"}), "p0"),
        cache_key(v, e, "p1"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    assert engine_stamp({**ENGINE, "pid": "42"}) == e  # run-to-run values do not count
    assert engine_stamp({}) == ""


def test_painting_stamps_follow_content_not_mtime(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    first = painting_stamps([a, b])
    a.write_bytes(b"one")  # rewritten, same content
    assert painting_stamps([a, b]) == first
    b.write_bytes(b"changed")
    second = painting_stamps([a, b])
    assert second[0] == first[0] and second[1] != first[1]
    assert painting_stamps([a]) != painting_stamps([a], mask=b)
    assert painting_stamps([tmp_path / "gone.png"])[0].startswith("missing:")


# -- memory and disk ----------------------------------------------------------------------
def test_miss_then_hit_with_stats(tmp_path: Path) -> None:
    c, v = make(tmp_path), var()
    assert c.get(v) is None and not c.contains(v)
    assert c.put(v, image_for(v))
    got = c.get(v)
    assert got is not None and np.array_equal(got, image_for(v))
    assert not got.flags.writeable  # nobody can change a cached picture under the wall
    s = c.stats()
    assert (s["hits"], s["misses"], s["memory_hits"], s["entries"]) == (1, 1, 1, 1)
    assert len(pngs(tmp_path)) == 1


def test_memory_lru_stays_within_budget(tmp_path: Path) -> None:
    big = dataclasses.replace(PARAMS, width=256, height=256)  # 196,608 bytes: 5 fit in 1 MB
    rule = dataclasses.replace(RULE, params=big)
    c = make(tmp_path, memory_mb=1, disk_mb=0)
    vs = [var(f, rule) for f in all_outcomes(2, 3)]
    for v in vs[:5]:
        c.put(v, image_for(v))
    assert c.get(vs[0]) is not None  # vs[0] is now the most recent
    for v in vs[5:]:
        c.put(v, image_for(v))
        assert c.stats()["memory_bytes"] <= 1 * MB
    assert c.stats()["memory_entries"] == 5
    assert c.get(vs[1]) is None  # least recently used: pushed out
    assert all(c.get(v) is not None for v in [vs[0], *vs[-4:]])  # vs[0] was used
    assert pngs(tmp_path) == []  # disk_mb = 0: memory only


def test_disk_survives_a_restart_without_rendering_again(tmp_path: Path) -> None:
    first = make(tmp_path)
    vs = [var(f) for f in all_outcomes(2, 3)]
    for v in vs:
        first.put(v, image_for(v))
    again = make(tmp_path)  # a restart: empty memory, same folder
    assert again.stats()["disk_entries"] == 9 and again.stats()["memory_entries"] == 0
    for v in vs:
        got = again.get(v)
        assert got is not None and np.array_equal(got, image_for(v))
    s = again.stats()
    assert (s["disk_hits"], s["misses"], s["memory_entries"]) == (9, 0, 9)


def test_disk_lru_within_budget_and_hits_keep_files(tmp_path: Path) -> None:
    big = dataclasses.replace(PARAMS, width=256, height=256)
    rule = dataclasses.replace(RULE, params=big)
    c = make(tmp_path, memory_mb=0, disk_mb=1)  # ~5 noisy PNGs fit
    vs = [var(f, rule) for f in all_outcomes(2, 3)]
    for v in vs[:4]:
        c.put(v, image_for(v, noise=True))
    assert c.get(vs[0]) is not None  # touched: now the most recent on disk
    for v in vs[4:8]:
        c.put(v, image_for(v, noise=True))
        assert sum(p.stat().st_size for p in pngs(tmp_path)) <= 1 * MB
    assert c.stats()["disk_entries"] == 5 and c.stats()["evicted"] == 3
    assert c.on_disk(vs[0]) and not any(c.on_disk(v) for v in vs[1:4])
    assert len(pngs(tmp_path)) == 5
    assert c.get(vs[0]) is not None  # the most recent again, also on disk (mtime)
    restarted = make(tmp_path, memory_mb=0, disk_mb=1)  # LRU order comes back from mtimes
    restarted.put(vs[8], image_for(vs[8], noise=True))
    assert restarted.on_disk(vs[8]) and restarted.on_disk(vs[0]) and not restarted.on_disk(vs[4])


def test_lower_disk_budget_at_start_evicts_the_oldest(tmp_path: Path) -> None:
    big = dataclasses.replace(PARAMS, width=256, height=256)
    rule = dataclasses.replace(RULE, params=big)
    c = make(tmp_path, memory_mb=0, disk_mb=8)
    vs = [var(f, rule) for f in all_outcomes(2, 3)]
    for v in vs:
        c.put(v, image_for(v, noise=True))
    smaller = make(tmp_path, memory_mb=0, disk_mb=1)
    assert smaller.stats()["disk_bytes"] <= 1 * MB
    assert smaller.on_disk(vs[-1]) and not smaller.on_disk(vs[0])


def test_changing_one_variant_misses_exactly_its_outcomes(tmp_path: Path) -> None:
    c = make(tmp_path)
    for f in all_outcomes(2, 3):
        c.put(var(f), image_for(var(f)))
    edited = dataclasses.replace(RULE, variants=(("red", "GOLD", "blue"), RULE.variants[1]))
    missing = [f for f in all_outcomes(2, 3) if not c.contains(var(f, edited))]
    assert missing == [(2, 1), (2, 2), (2, 3)]


def test_new_engine_misses_everything_and_unknown_engine_never_answers(tmp_path: Path) -> None:
    c, v = make(tmp_path), var()
    c.put(v, image_for(v))
    assert c.set_engine({**ENGINE, "numpy": "9.9"}) and not c.contains(v)
    assert not c.set_engine({**ENGINE, "numpy": "9.9"})  # same again: nothing changes
    assert c.set_engine(ENGINE) and c.get(v) is not None  # back: the disk still has it
    blind = make(tmp_path, engine_info={})
    assert not blind.engine_known and blind.get(v) is None and blind.engine_info == {}
    assert not blind.put(v, image_for(v))
    assert blind.set_engine({**ENGINE, "pid": "7"}) and blind.engine_info == ENGINE  # no pid


def test_wrong_size_image_is_refused(tmp_path: Path) -> None:
    c, v = make(tmp_path), var()
    with pytest.raises(ValueError, match="does not fit 64x48"):
        c.put(v, np.zeros((10, 10, 3), np.uint8))


# -- damage -------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncate", "garbage", "other-key", "wrong-size"])
def test_corrupt_file_is_deleted_never_shown(tmp_path: Path, damage: str) -> None:
    c, v, w = make(tmp_path), var((1, 1)), var((3, 3))
    c.put(v, image_for(v))
    c.put(w, image_for(w))
    path, other = c.path(c.key(v) or ""), c.path(c.key(w) or "")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:60])
    elif damage == "garbage":
        path.write_bytes(b"\x89PNG not really")
    elif damage == "other-key":
        path.write_bytes(other.read_bytes())
    else:
        Image.new("RGB", (8, 8)).save(path)
    again = make(tmp_path)
    assert again.get(v) is None
    assert not path.exists() and not again.contains(v)
    assert again.stats()["corrupt"] == 1
    assert again.get(w) is not None


def test_leftover_temp_files_are_removed_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / ".abc.png.x1y2.tmp").write_bytes(b"half a png")
    make(tmp_path)
    assert list(folder.iterdir()) == []


def test_full_disk_is_logged_once_counted_and_survived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    c = make(tmp_path, clock=clock, retry_s=60.0)

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_mod, "save_png", full)
    vs = [var(f) for f in all_outcomes(2, 3)]
    with caplog.at_level(logging.ERROR, logger="installation.cache.outcome_cache"):
        assert not c.put(vs[0], image_for(vs[0]))
        assert not c.put(vs[1], image_for(vs[1]))  # paused: not even tried
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "No space left" in caplog.records[0].getMessage()
    assert c.stats()["disk_errors"] == 1 and c.stats()["disk_paused"]
    assert c.get(vs[0]) is not None  # memory goes on
    monkeypatch.undo()
    assert not c.put(vs[2], image_for(vs[2]))  # still resting
    clock.t += 61
    assert c.put(vs[3], image_for(vs[3]))
    assert len(pngs(tmp_path)) == 1 and not c.stats()["disk_paused"]


def test_unwritable_folder_keeps_working_in_memory(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the folder should be")
    c, v = make(tmp_path), var()
    assert not c.put(v, image_for(v))
    assert c.get(v) is not None and c.stats()["disk_errors"] == 1


# -- threads and a changing folder ----------------------------------------------------------
def test_a_slow_delete_never_holds_up_lookups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Evicting over budget deletes files; a stalled delete must not block the frame's
    lookups (contains, peek, on_disk), which share the cache's lock."""
    import os
    import threading

    big = dataclasses.replace(PARAMS, width=256, height=256)
    rule = dataclasses.replace(RULE, params=big)
    c = make(tmp_path, memory_mb=8, disk_mb=1)  # ~5 noisy PNGs fit on disk
    vs = [var(f, rule) for f in all_outcomes(2, 3)]
    for v in vs[:5]:
        c.put(v, image_for(v, noise=True))
    entered, gate = threading.Event(), threading.Event()
    real_unlink = os.unlink

    def stalled_unlink(path: Any, *args: Any, **kw: Any) -> None:
        entered.set()
        gate.wait(10)  # a dying disk
        real_unlink(path, *args, **kw)

    monkeypatch.setattr(os, "unlink", stalled_unlink)
    writer = threading.Thread(target=c.put, args=(vs[5], image_for(vs[5], noise=True)))
    writer.start()
    try:
        assert entered.wait(10), "the write never evicted anything"
        answers: list[object] = []

        def look() -> None:
            answers.extend([c.contains(vs[5]), c.on_disk(vs[0]), c.peek(vs[4]) is not None])

        reader = threading.Thread(target=look)
        reader.start()
        reader.join(5)
        stalled = reader.is_alive()
    finally:
        gate.set()
        writer.join(10)
    assert not stalled, "a lookup waited for the disk"
    assert answers[0] is True and answers[2] is True
    assert sum(p.stat().st_size for p in pngs(tmp_path)) <= 1 * MB


def test_files_vanishing_during_the_start_scan_leave_the_rest_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another cache (a show reload) may delete files while this one scans the folder:
    those are skipped, every other file is indexed and kept within the budget."""
    first = make(tmp_path)
    vs = [var(f) for f in all_outcomes(2, 3)]
    for v in vs:
        first.put(v, image_for(v))
    gone = vanish_first_png(monkeypatch)
    again = make(tmp_path)
    monkeypatch.undo()
    assert len(gone) == 1
    assert again.stats()["disk_entries"] == 8
    assert sum(again.on_disk(v) for v in vs) == 8
    assert again.stats()["disk_errors"] == 0  # a vanished file is not disk trouble
