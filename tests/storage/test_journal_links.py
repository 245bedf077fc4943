"""A cache hit's picture is linked into the archive's journal, not copied: on a real disk,
across a kill, with the cache deleting its own name meanwhile, and where links cannot be
made (another filesystem: a tmpfs)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from installation.storage import archive as archive_mod
from installation.storage.archive import JOURNAL
from installation.storage.archive_meta import metadata
from installation.storage.journal import entry_name, read_entry, write_entry
from installation.storage.png import save_png
from tests.disks import tmpfs
from tests.storage.test_archive import NOON, image, make, var
from tests.storage.test_archive_journal import journal


def cached_png(folder: Path, pixels: np.ndarray, name: str = "k.png") -> Path:
    """A picture as the outcome cache keeps it: a PNG written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    save_png(pixels, folder / name, {"cache-key": name})
    return folder / name


def archived_pixels(a: Any) -> list[np.ndarray]:
    out = []
    for entry in a.list():
        with Image.open(entry.path) as im:
            out.append(np.asarray(im.convert("RGB")))
    return out


def held_png_step(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The archive's PNG step waits for the returned event: the journal stays as written."""
    gate = threading.Event()
    real = archive_mod.save_png

    def held(*args: Any, **kw: Any) -> None:
        gate.wait(10)
        real(*args, **kw)

    monkeypatch.setattr(archive_mod, "save_png", held)
    return gate


def test_a_cache_hit_is_linked_and_survives_the_cache_deleting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = held_png_step(monkeypatch)
    pixels = image(4, side=(96, 128))
    source = cached_png(tmp_path / "cache", pixels)
    a = make(tmp_path, wall=lambda: NOON)
    ticket = a.save(pixels, var(number=4), engine="fake", source=source)
    assert ticket.wait(10) and ticket.ok
    entry_file, linked = (tmp_path / "archive" / JOURNAL / n for n in journal(tmp_path)[::-1])
    assert entry_file.suffix == ".shown" and linked.name == entry_file.stem + ".png"
    assert os.stat(linked).st_ino == os.stat(source).st_ino  # a second name, no copy
    assert entry_file.stat().st_size < pixels.nbytes // 10  # the header alone
    source.unlink()  # the cache trims (or single-use drops) its name meanwhile
    gate.set()
    assert a.flush()
    (got,) = archived_pixels(a)
    assert np.array_equal(got, pixels) and journal(tmp_path) == []
    assert a.stats()["saved"] == 1 and a.stats()["errors"] == 0
    a.stop()


def test_a_killed_run_leaves_a_linked_entry_the_next_start_archives(tmp_path: Path) -> None:
    pixels = image(5)
    source = cached_png(tmp_path / "cache", pixels)
    folder = tmp_path / "archive" / JOURNAL
    folder.mkdir(parents=True)
    name = entry_name(NOON, 1)
    text = metadata(var(number=5), show="demo", engine="fake", describe={}, when=NOON)
    write_entry(folder, name, pixels, text, when=NOON, source=source)  # then kill -9
    assert len(journal(tmp_path)) == 2
    entry = read_entry(folder / name)
    assert np.array_equal(entry.image, pixels) and entry.linked == folder / (name[:-6] + ".png")
    a = make(tmp_path, wall=lambda: NOON)
    a.start()
    assert a.flush()
    assert [e.number for e in a.list()] == [5] and a.stats()["recovered"] == 1
    assert np.array_equal(archived_pixels(a)[0], pixels) and journal(tmp_path) == []
    a.stop()


def test_a_link_whose_entry_was_never_written_is_removed_unarchived(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    source = cached_png(tmp_path / "cache", image(6))
    folder.mkdir(parents=True)
    os.link(source, folder / (entry_name(NOON, 1)[:-6] + ".png"))  # killed before the entry
    a = make(tmp_path, wall=lambda: NOON)
    a.start()
    assert a.flush()
    assert journal(tmp_path) == [] and a.list() == [] and a.stats()["errors"] == 0
    assert source.is_file()  # the cache's own name is untouched
    a.stop()


def test_a_damaged_linked_picture_is_cleared_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    folder.mkdir(parents=True)
    text = metadata(var(number=7), show="demo", engine="fake", describe={}, when=NOON)
    bad = entry_name(NOON, 1)
    write_entry(folder, bad, image(7), text, when=NOON, source=cached_png(tmp_path, image(7)))
    (folder / (bad[:-6] + ".png")).write_bytes(b"\x89PNG not really")
    other = entry_name(NOON, 2)
    good = cached_png(tmp_path, image(8), "o.png")
    write_entry(folder, other, image(8), text, when=NOON, source=good)
    a = make(tmp_path, wall=lambda: NOON)
    a.start()
    assert a.flush()
    assert journal(tmp_path) == [] and len(a.list()) == 1 and a.stats()["errors"] == 1
    assert np.array_equal(archived_pixels(a)[0], image(8))
    a.stop()


def test_an_entry_naming_a_file_elsewhere_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    folder.mkdir(parents=True)
    outside = cached_png(tmp_path, image(9), "secret.png")
    name = entry_name(NOON, 1)
    header = {"v": 1, "when": NOON, "number": "9", "key": "", "shape": [48, 64, 3], "text": {}}
    for png in (f"../../{outside.name}", str(outside)):
        (folder / name).write_text(json.dumps({**header, "png": png}) + "\n")
        with pytest.raises(ValueError, match="names"):
            read_entry(folder / name)


def test_where_links_cannot_be_made_the_pixels_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tmpfs(tmp_path / "cache", "4m") as other_fs:
        gate = held_png_step(monkeypatch)
        pixels = image(10)
        source = cached_png(other_fs, pixels)
        a = make(tmp_path, wall=lambda: NOON)
        ticket = a.save(pixels, var(number=10), engine="fake", source=source)
        assert ticket.wait(10) and ticket.ok
        (name,) = journal(tmp_path)  # no link (EXDEV): the pixels in the entry itself
        assert (tmp_path / "archive" / JOURNAL / name).stat().st_size > pixels.nbytes
        gate.set()
        assert a.flush()
        assert np.array_equal(archived_pixels(a)[0], pixels)
        a.stop()
