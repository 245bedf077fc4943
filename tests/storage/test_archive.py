"""The archive on a real disk: metadata round trip, pruning, full disks, no half-written files."""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from installation.core.variations import RenderParams, Variation
from installation.storage import archive as archive_mod
from installation.storage.archive import MB, Archive
from installation.storage.spares import is_spare
from tests.storage.vanishing import vanish_first_png

PARAMS = RenderParams(strength=0.6, steps=4, guidance=1.5, width=64, height=48)
DESCRIBE = {
    "engine": "diffusers", "model": "sd-turbo", "fingerprint": "abc123",
    "diffusers": "0.42.0", "torch": "2.13.0", "pid": "7",
}  # fmt: skip
NOON = time.mktime((2026, 5, 17, 12, 30, 5, 0, 0, -1))  # local time, like the file names


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def var(faces: tuple[int, ...] = (3, 5), number: int = 7, seed: int = 1234) -> Variation:
    key = "-".join(map(str, faces))
    return Variation(faces, key, number, seed, "a die at dusk, ünïcode", "text", PARAMS)


def image(seed: int = 0, side: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*side, 3), np.uint8)


def make(tmp_path: Path, **kw: Any) -> Archive:
    args: dict[str, Any] = {"show_name": "demo", "max_files": 100, "max_mb": 100}
    args.update(kw)
    return Archive(tmp_path / "archive", **args)


def files(tmp_path: Path) -> list[Path]:
    """Every file of the archive but the journal's spares (made ahead while idle)."""
    found = (tmp_path / "archive").rglob("*")
    return sorted(p for p in found if p.is_file() and not is_spare(p.name))


def assert_all_verify(tmp_path: Path) -> None:
    for p in files(tmp_path):
        assert p.suffix == ".png" and not p.name.startswith("."), p
        with Image.open(p) as im:
            im.verify()


def test_metadata_round_trip(tmp_path: Path) -> None:
    a = make(tmp_path, wall=lambda: NOON)
    pixels = image()
    assert a.save(pixels, var(), engine="diffusers", describe=DESCRIBE)
    assert a.flush()
    (entry,) = a.list()
    assert entry.path == tmp_path / "archive" / "2026-05-17" / "123005-7-3-5.png"
    assert (entry.day, entry.number, entry.key, entry.faces, entry.seed) == (
        "2026-05-17", 7, "3-5", (3, 5), 1234,
    )  # fmt: skip
    assert entry.prompt == "a die at dusk, ünïcode" and entry.time.startswith("2026-05-17T12:30:05")
    m = entry.meta
    assert m["show"] == "demo" and m["faces"] == "3 5" and m["negative_prompt"] == "text"
    assert (m["steps"], m["strength"], m["guidance"], m["size"]) == ("4", "0.6", "1.5", "64x48")
    assert (m["engine"], m["model"], m["fingerprint"]) == ("diffusers", "sd-turbo", "abc123")
    assert m["versions"] == "diffusers 0.42.0, torch 2.13.0"
    assert m["Software"].startswith("installation ")
    with Image.open(entry.path) as im:
        assert np.array_equal(np.asarray(im), pixels)
    a.stop()


def test_list_filters_by_day_and_faces(tmp_path: Path) -> None:
    t = [NOON]
    a = make(tmp_path, wall=lambda: t[0])
    for i, faces in enumerate([(1, 1), (3, 5), (3, 5)]):
        t[0] = NOON + i
        a.save(image(i), var(faces, number=i + 1))
    t[0] = NOON + 86400
    a.save(image(9), var((3, 5), number=4))
    assert a.flush()
    assert [e.number for e in a.list()] == [1, 2, 3, 4]
    assert [e.number for e in a.list(faces=(3, 5))] == [2, 3, 4]
    assert [e.number for e in a.list(day=date(2026, 5, 17), faces="3-5")] == [2, 3]
    assert a.list(day="2026-05-19") == []
    with pytest.raises(ValueError, match=r"YYYY-MM-DD, got '17\.5\.2026'"):
        a.list(day="17.5.2026")


def test_same_second_same_outcome_keeps_both(tmp_path: Path) -> None:
    a = make(tmp_path, wall=lambda: NOON)
    a.save(image(1), var())
    a.save(image(2), var())
    assert a.flush()
    assert [p.name for p in files(tmp_path)] == ["123005-7-3-5-2.png", "123005-7-3-5.png"]


def test_pruned_by_count_oldest_first_also_across_restarts(tmp_path: Path) -> None:
    t = [NOON]
    a = make(tmp_path, max_files=3, wall=lambda: t[0])
    for i in range(5):
        t[0] = NOON + i
        a.save(image(i), var(number=i + 1))
        assert a.flush()
    assert [e.number for e in a.list()] == [3, 4, 5]
    assert a.stats()["pruned"] == 2
    a.stop()
    b = make(tmp_path, max_files=2, wall=lambda: NOON + 10)
    b.save(image(9), var(number=9))
    assert b.flush()
    assert [e.number for e in b.list()] == [5, 9]


def test_pruned_by_size(tmp_path: Path) -> None:
    t = [NOON]
    a = make(tmp_path, max_mb=1, wall=lambda: t[0])
    for i in range(8):  # ~197 KB of noise each: about five fit
        t[0] = NOON + i
        a.save(image(i, (256, 256)), var(number=i + 1))
        assert a.flush()
        assert sum(p.stat().st_size for p in files(tmp_path)) <= 1 * MB
    assert [e.number for e in a.list()] == [4, 5, 6, 7, 8]
    assert a.stats()["bytes"] == sum(p.stat().st_size for p in files(tmp_path))


def test_old_days_disappear_when_emptied(tmp_path: Path) -> None:
    t = [NOON]
    a = make(tmp_path, max_files=1, wall=lambda: t[0])
    a.save(image(0), var())
    assert a.flush()
    t[0] = NOON + 86400
    a.save(image(1), var())
    assert a.flush()
    days = [p.name for p in (tmp_path / "archive").iterdir() if p.name != ".journal"]
    assert days == ["2026-05-18"]


def test_full_disk_pauses_logs_once_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    t = [NOON]
    a = make(tmp_path, clock=clock, retry_s=60.0, wall=lambda: t[0])

    def fsync_full(fd: int) -> None:  # the disk fills while the PNG is being written
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync_full)
    with caplog.at_level(logging.ERROR, logger="installation.storage.archive"):
        assert a.save(image(0), var(number=1))
        assert a.flush()
        assert not a.save(image(1), var(number=2))  # paused: handed back at once
        clock.t = 30
        assert not a.save(image(2), var(number=3))
    assert [r.getMessage() for r in caplog.records if "disk is full" in r.getMessage()] != []
    assert len(caplog.records) == 1
    s = a.stats()
    assert (s["disk_full"], s["skipped_paused"], s["saved"], s["paused"]) == (1, 2, 0, True)
    assert files(tmp_path) == []  # no half-written file, no temp file left behind
    monkeypatch.undo()
    clock.t = 61
    t[0] = NOON + 61
    assert a.save(image(3), var(number=4))
    assert a.flush()
    assert [e.number for e in a.list()] == [4] and not a.stats()["paused"]
    assert_all_verify(tmp_path)


def test_backed_up_queue_drops_and_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate, entered = threading.Event(), threading.Event()
    real = archive_mod.save_png

    def slow(*args: Any, **kw: Any) -> None:
        entered.set()
        gate.wait(10)
        real(*args, **kw)

    monkeypatch.setattr(archive_mod, "save_png", slow)
    t = [NOON]
    a = make(tmp_path, queue_size=2, wall=lambda: t[0])
    assert a.save(image(0), var(number=1))
    assert entered.wait(10)  # the writer holds image 1; the queue takes two more
    results = []
    for i in range(2, 6):
        t[0] = NOON + i
        results.append(bool(a.save(image(i), var(number=i))))
    assert results == [True, True, False, False]
    assert a.stats()["dropped"] == 2
    gate.set()
    assert a.flush()
    assert [e.number for e in a.list()] == [1, 2, 3]
    assert_all_verify(tmp_path)


def test_a_bad_image_is_counted_and_the_writer_goes_on(tmp_path: Path) -> None:
    t = [NOON]
    a = make(tmp_path, wall=lambda: t[0])
    a.save(np.zeros((4, 4), np.uint8), var(number=1))  # not RGB: a caller's bug
    t[0] += 1
    a.save(image(1), var(number=2))
    assert a.flush()
    assert a.stats()["errors"] == 1 and [e.number for e in a.list()] == [2]


def test_leftover_temp_files_are_cleared_and_disabled_archive_saves_nothing(
    tmp_path: Path,
) -> None:
    day = tmp_path / "archive" / "2026-05-17"
    day.mkdir(parents=True)
    (day / ".123005-7-3-5.png.abc.tmp").write_bytes(b"half")
    a = make(tmp_path, wall=lambda: NOON)
    a.save(image(0), var())
    assert a.flush()
    assert [p.name for p in files(tmp_path)] == ["123005-7-3-5.png"]
    off = make(tmp_path, enabled=False)
    assert not off.save(image(0), var()) and off.list()[0].number == 7


def test_archive_for_a_show(tmp_path: Path) -> None:
    from installation.show.schema import Show
    from installation.storage.archive import archive_for

    show = Show.model_validate(
        {"show": {"name": "demo"}, "archive": {"max_files": 5, "max_mb": 2, "enabled": False}}
    ).model_copy(update={"folder": tmp_path})
    a = archive_for(show)
    assert a.root == tmp_path / "var" / "archive"
    assert (a.show_name, a.max_files, a.max_bytes, a.enabled) == ("demo", 5, 2 * MB, False)


def test_files_deleted_during_the_start_scan_are_skipped_and_the_rest_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A curator (or a second process) deleting files while the writer indexes the
    archive must not stop the index part-way: the rest still counts towards max_files."""
    t = [NOON]
    first = make(tmp_path, wall=lambda: t[0])
    for n in range(1, 7):
        t[0] = NOON + n
        first.save(image(n), var(number=n))
    assert first.flush()
    first.stop()
    gone = vanish_first_png(monkeypatch)
    a = make(tmp_path, max_files=3, wall=lambda: NOON + 100)
    a.save(image(9), var(number=9))
    assert a.flush()
    monkeypatch.undo()
    assert len(gone) == 1 and a.stats()["errors"] == 0
    assert len(a.list()) == 3 and a.list()[-1].number == 9  # 5 indexed + 1 new, pruned to 3
    assert a.stats()["pruned"] == 3


def test_a_deletion_the_disk_refuses_is_logged_once_and_a_vanished_file_not_at_all(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    from installation.storage.archive_index import ArchiveIndex
    from tests.disks import read_only, tmpfs

    with tmpfs(tmp_path / "ro") as disk:
        (disk / "a.shown").write_bytes(b"x")
        (disk / "b.shown").write_bytes(b"x")
        read_only(disk)
        counts: dict[str, int] = {"pruned": 0, "refused": 0}
        index = ArchiveIndex(
            disk, disk, max_files=9, max_bytes=1 << 20, counts=counts, lock=threading.Lock()
        )
        with caplog.at_level(logging.WARNING, logger="installation.storage.archive"):
            index.remove(disk / "a.shown")
            index.remove(disk / "b.shown")  # the same trouble: not logged again
            index.remove(disk / "gone.shown")  # already gone: nothing to say
        lines = [r.getMessage() for r in caplog.records]
        assert lines == ["archive: could not delete a.shown (Read-only file system)"]
        assert (disk / "a.shown").exists()
