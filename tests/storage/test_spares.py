"""Spare journal files (storage/spares.py): an entry written into a file made ahead, in
one write; what a crash leaves in a spare is recovered when complete and deleted when
blank or torn; sizes come and go; a full disk makes none and the journal goes on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from installation.storage import spares as spares_mod
from installation.storage.archive import JOURNAL
from installation.storage.archive_meta import metadata
from installation.storage.journal import entry_name, pending_entries, read_entry, write_entry
from installation.storage.spares import HEADER_SLOT, Spares, is_spare
from tests.disks import tmpfs
from tests.storage.test_archive import NOON, image, make, var
from tests.storage.test_archive_journal import journal
from tests.storage.test_journal_links import archived_pixels, cached_png
from tests.waiting import poll


def text_for(number: int, name: str) -> dict[str, str]:
    text = metadata(var(number=number), show="demo", engine="fallback", describe={}, when=NOON)
    text["shown_id"] = name.removesuffix(".shown")
    return text


def spare_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if is_spare(p.name))


def removed_into(log: list[Path]) -> object:
    def remove(path: Path) -> None:
        log.append(path)
        path.unlink()

    return remove


def assert_the_next_start_archives(tmp_path: Path, number: int, pixels: np.ndarray) -> None:
    """An archive started on what a killed run left archives that picture, once, exactly."""
    a = make(tmp_path, wall=lambda: NOON)
    a.start()
    assert a.flush(10)
    assert [e.number for e in a.list()] == [number] and a.stats()["recovered"] == 1
    assert np.array_equal(archived_pixels(a)[0], pixels) and journal(tmp_path) == []
    a.stop()


def ready(folder: Path, pixels: np.ndarray, n: int = 1) -> Spares:
    """Spares of the size `pixels`' entry needs: asked once (the long way), then made."""
    folder.mkdir(parents=True, exist_ok=True)
    s = Spares(folder, lambda p: p.unlink(), keep=n)
    name = entry_name(NOON, 0)
    write_entry(folder, name, pixels, text_for(0, name), when=NOON, spares=s)
    os.unlink(folder / name)
    for _ in range(n):
        s.refill()
    assert not s.short() and len(spare_files(folder)) == n
    return s


def test_an_entry_goes_into_a_spare_and_reads_back_the_same(tmp_path: Path) -> None:
    pixels = image(3, side=(40, 56))
    s = ready(tmp_path, pixels)
    assert s.missed == 1  # the first entry of a size: no spare yet
    name = entry_name(NOON, 1)
    written = write_entry(tmp_path, name, pixels, text_for(3, name), when=NOON, spares=s)
    assert is_spare(written.name) and s.used == 1 and s.short()
    assert s.name(written, name) == tmp_path / name
    assert spare_files(tmp_path) == [] and (tmp_path / name).stat().st_size == (
        HEADER_SLOT + pixels.nbytes
    )
    entry = read_entry(tmp_path / name)
    assert np.array_equal(entry.image, pixels) and entry.number == 3 and entry.when == NOON
    assert entry.text["shown_id"] == name.removesuffix(".shown")


def test_a_picture_of_another_size_takes_the_long_way_and_two_sizes_are_kept(
    tmp_path: Path,
) -> None:
    small, other, third = image(1, (16, 16)), image(2, (20, 16)), image(3, (24, 16))
    s = ready(tmp_path, small)
    name = entry_name(NOON, 1)
    written = write_entry(tmp_path, name, other, text_for(1, name), when=NOON, spares=s)
    assert written == tmp_path / name and s.missed == 2  # no spare of its size: atomic
    s.refill()
    assert len(spare_files(tmp_path)) == 2  # one per size asked for lately
    removed: list[Path] = []
    s._remove = removed_into(removed)  # type: ignore[assignment]
    write_entry(tmp_path, entry_name(NOON, 2), third, text_for(2, "x"), when=NOON, spares=s)
    assert len(removed) == 1 and len(spare_files(tmp_path)) == 1  # the oldest size's went


def test_a_crash_before_the_rename_is_recovered_under_the_entry_name(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    pixels = image(5, side=(48, 64))
    s = ready(folder, pixels)
    name = entry_name(NOON, 1)
    write_entry(folder, name, pixels, text_for(5, name), when=NOON, spares=s)
    # killed here: settled, shown, never renamed
    assert_the_next_start_archives(tmp_path, 5, pixels)


def test_blank_and_torn_spares_are_deleted_never_archived(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    pixels = image(6, side=(32, 32))
    s = ready(folder, pixels, n=3)
    torn_name = entry_name(NOON, 1)
    torn = write_entry(folder, torn_name, pixels, text_for(6, torn_name), when=NOON, spares=s)
    with open(torn, "r+b") as f:  # a power cut mid-write: the last pixels never landed
        f.seek(HEADER_SLOT + pixels.nbytes - 512)
        f.write(bytes(512))
    half = write_entry(folder, entry_name(NOON, 2), pixels, text_for(6, "y"), when=NOON, spares=s)
    with open(half, "r+b") as f:  # the header half written
        f.write(bytes(100))
    removed: list[Path] = []
    left = pending_entries(folder, lambda e: None, removed_into(removed))
    assert left == [] and len(removed) == 3 and spare_files(folder) == []  # + one blank


def test_a_spare_naming_a_link_that_is_not_there_is_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    pixels = image(9, side=(48, 64))
    s = Spares(folder, lambda p: p.unlink())
    folder.mkdir(parents=True)
    source = cached_png(tmp_path / "cache", pixels)
    write_entry(folder, entry_name(NOON, 0), pixels, {}, when=NOON, source=source, spares=s)
    for p in folder.iterdir():
        p.unlink()
    s.refill()
    name = entry_name(NOON, 1)
    write_entry(folder, name, pixels, text_for(9, name), when=NOON, source=source, spares=s)
    (folder / name).with_suffix(".png").unlink()  # the link gone (never by our own order)
    removed: list[Path] = []
    assert pending_entries(folder, lambda e: None, removed_into(removed)) == []
    assert len(removed) == 1 and spare_files(folder) == []


def test_the_crc_catches_damaged_pixels_in_an_entry(tmp_path: Path) -> None:
    pixels = image(7, side=(16, 24))
    s = ready(tmp_path, pixels)
    name = entry_name(NOON, 1)
    path = s.name(write_entry(tmp_path, name, pixels, text_for(7, name), when=NOON, spares=s), name)
    assert path is not None
    with open(path, "r+b") as f:
        f.seek(HEADER_SLOT + 10)
        f.write(b"\xff\x00\xff")
    with pytest.raises(ValueError, match="CRC"):
        read_entry(path)


def test_a_linked_entry_goes_into_a_header_spare_and_survives_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / JOURNAL
    folder.mkdir(parents=True)
    pixels = image(8, side=(48, 64))
    source = cached_png(tmp_path / "cache", pixels)
    s = Spares(folder, lambda p: p.unlink())
    first = entry_name(NOON, 0)
    write_entry(folder, first, pixels, text_for(8, first), when=NOON, source=source, spares=s)
    for p in (folder / first, (folder / first).with_suffix(".png")):
        p.unlink()
    s.refill()
    name = entry_name(NOON, 1)
    written = write_entry(
        folder, name, pixels, text_for(8, name), when=NOON, source=source, spares=s
    )
    assert is_spare(written.name) and written.stat().st_size == HEADER_SLOT
    assert json.loads(written.read_bytes())["png"] == name.replace(".shown", ".png")
    # killed before the rename
    assert_the_next_start_archives(tmp_path, 8, pixels)


def test_the_archive_makes_spares_when_idle_uses_them_and_deletes_them_at_stop(
    tmp_path: Path,
) -> None:
    a = make(tmp_path)
    a.start()
    folder = tmp_path / "archive" / JOURNAL
    pixels = [image(n, side=(40, 40)) for n in range(4)]
    assert a.save(pixels[0], var(number=1)).wait(10) and a.flush(10)
    assert poll(lambda: len(spare_files(folder)) == spares_mod.KEEP, 10), spare_files(folder)
    for n in (1, 2, 3):
        ticket = a.save(pixels[n], var(number=n + 1))
        assert ticket.wait(10) and ticket.ok
    assert a.flush(10)
    assert a.stats()["journal_spares"] == {"used": 3, "missed": 1}
    got = archived_pixels(a)
    assert all(np.array_equal(g, w) for g, w in zip(got, pixels, strict=True))
    a.stop()
    assert spare_files(folder) == [] and journal(tmp_path) == []


def test_a_full_disk_makes_what_spares_fit_and_no_partial_file(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "256k") as disk:  # 64 pages
        (disk / "filler").write_bytes(bytes(150 * 1024))  # 38 pages: 26 left
        pixels = image(1, side=(120, 160))  # an entry of 61.7 KB: 16 pages
        s = ready(disk, pixels)  # one spare fits
        s.keep = 3
        s.idle(lambda: True)  # the second does not: no partial file, no more tries
        assert len(spare_files(disk)) == 1 and not s.short()
        assert sorted(p.name for p in disk.iterdir() if not is_spare(p.name)) == ["filler"]
        name = entry_name(NOON, 1)
        written = write_entry(disk, name, pixels, text_for(1, name), when=NOON, spares=s)
        assert is_spare(written.name)  # the space reserved ahead is what the entry used
        assert np.array_equal(read_entry(written).image, pixels)
        with pytest.raises(OSError):  # and the long way no longer fits
            write_entry(disk, entry_name(NOON, 2), pixels, text_for(2, "z"), when=NOON, spares=s)
        assert s.short()  # asked again: spares are tried again when idle
