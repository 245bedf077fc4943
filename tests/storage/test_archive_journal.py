"""The archive's journal on a real disk: on disk before the picture goes up, archived by
the next start when a run ended before its PNG was made, never twice."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from installation.storage import archive as archive_mod
from installation.storage.archive import JOURNAL, Archive
from installation.storage.archive_meta import metadata
from installation.storage.journal import entry_name, read_entry, write_entry
from installation.storage.spares import is_spare
from tests.storage.test_archive import NOON, image, make, var


def journal(tmp_path: Path) -> list[str]:
    """The journal's entries and links (the spare files made ahead are not entries)."""
    folder = tmp_path / "archive" / JOURNAL
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return sorted(n for n in names if not is_spare(n))


def pngs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "archive").glob("20*/*.png"))


def left_by_a_crash(tmp_path: Path, number: int, when: float, seq: int = 1) -> str:
    """What a run killed after journalling a shown picture, before its PNG, leaves."""
    name = entry_name(when, seq)
    text = metadata(var(number=number), show="demo", engine="fallback", describe={}, when=when)
    text["shown_id"] = name.removesuffix(".shown")
    folder = tmp_path / "archive" / JOURNAL
    folder.mkdir(parents=True, exist_ok=True)
    write_entry(folder, name, image(number), text, when=when)
    return name


def test_the_ticket_settles_once_the_picture_is_on_disk_before_its_png(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, entered = threading.Event(), threading.Event()
    real = archive_mod.save_png

    def slow(*args: Any, **kw: Any) -> None:  # the PNG step waits: the journal must not
        entered.set()
        gate.wait(10)
        real(*args, **kw)

    monkeypatch.setattr(archive_mod, "save_png", slow)
    a = make(tmp_path, wall=lambda: NOON)
    pixels = image(3)
    ticket = a.save(pixels, var(number=3), engine="fallback")
    assert ticket and ticket.wait(10) and ticket.ok
    assert entered.wait(10)
    (name,) = journal(tmp_path)
    entry = read_entry(tmp_path / "archive" / JOURNAL / name)
    assert np.array_equal(entry.image, pixels) and entry.number == 3 and entry.when == NOON
    assert pngs(tmp_path) == []
    gate.set()
    assert a.flush()
    assert journal(tmp_path) == [] and [e.number for e in a.list()] == [3]
    a.stop()


def test_the_next_start_archives_what_a_killed_run_journalled(tmp_path: Path) -> None:
    left_by_a_crash(tmp_path, 5, NOON - 60, seq=1)
    left_by_a_crash(tmp_path, 6, NOON - 30, seq=2)
    a = make(tmp_path, wall=lambda: NOON)
    a.start()
    a.save(image(7), var(number=7))
    assert a.flush()
    assert [e.number for e in a.list()] == [5, 6, 7]  # shown order, shown times
    assert a.list()[0].path.name == time.strftime("%H%M%S", time.localtime(NOON - 60)) + (
        "-5-3-5.png"
    )
    with Image.open(a.list()[0].path) as im:
        assert np.array_equal(np.asarray(im), image(5))
    assert a.stats()["recovered"] == 2 and a.stats()["saved"] == 3
    assert journal(tmp_path) == []
    a.stop()


def test_a_crash_after_the_png_before_the_entry_was_deleted_archives_once(
    tmp_path: Path,
) -> None:
    name = left_by_a_crash(tmp_path, 8, NOON)
    a = make(tmp_path, wall=lambda: NOON)
    a.start()
    assert a.flush()
    a.stop()
    left_by_a_crash(tmp_path, 8, NOON)  # the same entry again: its deletion was lost
    assert journal(tmp_path) == [name]
    b = make(tmp_path, wall=lambda: NOON)
    b.start()
    assert b.flush()
    assert [e.number for e in b.list()] == [8] and journal(tmp_path) == []
    b.stop()


def test_damaged_entries_and_temp_files_are_cleared_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    folder.mkdir(parents=True)
    (folder / entry_name(NOON, 1)).write_bytes(b'{"v": 1, "shape": [9, 9, 3]}\nshort')
    (folder / ".x.shown.abc.tmp").write_bytes(b"half")  # a kill -9 during a journal write
    left_by_a_crash(tmp_path, 9, NOON, seq=2)
    a = make(tmp_path, wall=lambda: NOON)
    a.start()
    assert a.flush()
    assert journal(tmp_path) == [] and [e.number for e in a.list()] == [9]
    assert a.stats()["errors"] == 1
    a.stop()


def test_a_picture_not_taken_settles_at_once(tmp_path: Path) -> None:
    off = make(tmp_path, enabled=False)
    ticket = off.save(image(0), var())
    assert not ticket and ticket.settled and not ticket.ok
    assert journal(tmp_path) == []


def test_stop_leaves_what_it_could_not_archive_in_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    real = archive_mod.save_png

    def stuck(*args: Any, **kw: Any) -> None:
        gate.wait(10)
        raise OSError(5, "Input/output error")  # the disk gave up

    monkeypatch.setattr(archive_mod, "save_png", stuck)
    a: Archive = make(tmp_path, wall=lambda: NOON)
    assert a.save(image(1), var(number=1)).wait(10)
    a.stop(timeout_s=0.2)
    gate.set()
    assert len(journal(tmp_path)) == 1  # kept for the next start
    monkeypatch.setattr(archive_mod, "save_png", real)
    b = make(tmp_path, wall=lambda: NOON)
    b.start()
    assert b.flush() and [e.number for e in b.list()] == [1]
    b.stop()
