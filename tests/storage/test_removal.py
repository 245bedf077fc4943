"""Deletions in storage stay inside it and never follow a symlink (real files and links)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from installation.storage.inside import Refused, is_inside, remove_empty_folder, remove_file
from tests.storage.test_archive import NOON, image, make, var


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    (tmp_path / "storage" / "archive" / "2026-05-01").mkdir(parents=True)
    return tmp_path / "storage"


def test_a_regular_file_inside_goes(storage: Path) -> None:
    f = storage / "archive" / "2026-05-01" / "a.png"
    f.write_bytes(b"x")
    assert is_inside(storage, f)
    assert remove_file(storage, f) and not f.exists()
    assert not remove_file(storage, f)  # already gone: not an error
    assert remove_empty_folder(storage, f.parent) and not f.parent.exists()


def test_nothing_is_deleted_through_a_linked_folder(storage: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.png").write_bytes(b"keep")
    (storage / "archive" / "2026-05-02").symlink_to(elsewhere)
    victim = storage / "archive" / "2026-05-02" / "a.png"
    assert not is_inside(storage, victim)
    with pytest.raises(Refused, match="2026-05-02 is a symlink or not a folder"):
        remove_file(storage, victim)
    assert not remove_empty_folder(storage, victim.parent)
    assert (elsewhere / "a.png").read_bytes() == b"keep"
    assert (storage / "archive" / "2026-05-02").is_symlink()


def test_a_link_a_fifo_and_a_folder_at_the_end_are_left(storage: Path, tmp_path: Path) -> None:
    day = storage / "archive" / "2026-05-01"
    target = tmp_path / "precious"
    target.write_bytes(b"keep")
    (day / "link.png").symlink_to(target)
    os.mkfifo(day / "fifo.png")
    (day / "dir.png").mkdir()
    for name, kind in (("link.png", "symlink"), ("fifo.png", "FIFO"), ("dir.png", "folder")):
        with pytest.raises(Refused, match=f"is a {kind}"):
            remove_file(storage, day / name)
    assert target.read_bytes() == b"keep" and (day / "link.png").is_symlink()
    assert stat.S_ISFIFO((day / "fifo.png").lstat().st_mode) and (day / "dir.png").is_dir()


def test_outside_storage_is_refused(storage: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"keep")
    for path in (outside, storage / ".." / "outside.png", storage):
        with pytest.raises(Refused):
            remove_file(storage, path)
    assert outside.read_bytes() == b"keep"


def test_the_archive_never_prunes_a_linked_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A day folder symlinked elsewhere (issue 13.8): its PNGs used to be pruned."""
    elsewhere = tmp_path / "elsewhere"
    t = [NOON - 5 * 86400]
    first = make(elsewhere.parent / "old-show", max_files=100, wall=lambda: t[0])
    for i in range(3):  # real archive files of an old day, kept on another disk
        t[0] += 1
        first.save(image(i), var(number=i + 1))
        assert first.flush()
    first.stop()
    [old_day] = [d for d in (tmp_path / "old-show" / "archive").iterdir() if d.name[0] != "."]
    old_files = sorted(p.name for p in old_day.iterdir())
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / old_day.name).symlink_to(old_day)
    t[0] = NOON
    with caplog.at_level(logging.WARNING, logger="installation.storage.archive"):
        a = make(tmp_path, max_files=2, wall=lambda: t[0])
        for i in range(4):  # pruning runs on every save beyond 2 files
            t[0] += 1
            a.save(image(i), var(number=10 + i))
            assert a.flush()
    a.stop()
    assert sorted(p.name for p in old_day.iterdir()) == old_files
    assert [e.number for e in a.list(day="2026-05-17")] == [12, 13]  # own files still pruned
    assert a.stats()["pruned"] == 2
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "is a symlink" in warnings[0] and old_day.name in warnings[0]


def test_a_linked_archive_folder_is_neither_pruned_nor_written(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "archive").symlink_to(elsewhere)
    a = make(tmp_path, max_files=1, wall=lambda: NOON)
    for i in range(2):
        a.save(image(i), var(number=i + 1))
        assert a.flush()
    a.stop()
    assert list(elsewhere.iterdir()) == []
    assert a.stats()["refused"] == 2 and a.stats()["saved"] == 0
