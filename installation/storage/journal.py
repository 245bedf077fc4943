"""The archive's journal: each shown picture on disk before it goes up, until archived.

A PNG takes a few hundred ms to encode at 1024² (PIL's filters, at any compression
level); the raw pixels with a one-line JSON header take a write and an fsync (~15 ms
for 3 MB here). So the archive first writes that entry, atomically, into
<archive>/.journal/ and says so through a Saved ticket, which the presenter waits on
(at most DURABLE_WAIT_S) before the picture goes up; the PNG is made from the entry
afterwards and the entry deleted. A kill -9 or a power cut in between leaves the entry,
and the next start archives it: whatever reached the wall reaches the archive.

An entry is `<microseconds since the epoch>-<seq>.shown`: the order shown, across runs.

A picture already safe on this disk (a cache hit: the outcome cache writes its PNGs
atomically) is not copied: its file is hard-linked into the journal as `<entry>.png`
and the entry is its header alone, naming the link (one small write and an fsync instead
of megabytes: a cache hit goes up sooner). The link is a second name of the same file,
so the cache may delete or trim its own name meanwhile. Where links cannot be made (the
archive on another filesystem, FAT), the pixels are written as for any picture.

The archive's journal thread writes most entries into a spare file made ahead of them
(spares.py: one O_DSYNC write instead of about ten system calls); such an entry has its
header line padded and, for pixels, their CRC, and is renamed to its name once settled.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from installation.core.variations import Variation
from installation.storage.atomic import fsync_dir, write_atomic
from installation.storage.bounded import Damage, read_bounded
from installation.storage.diskutil import scan_folder
from installation.storage.png import as_rgb_array
from installation.storage.spares import HEADER_SLOT, Spares, is_spare, padded

SUFFIX = ".shown"
LINKED = ".png"  # a linked picture beside its entry: <entry name without SUFFIX>.png
MAX_HEADER = 1 << 20  # the JSON line before the pixels (text chunks are short)
MAX_PIXELS = 1 << 28
_ENTRY_NAME = re.compile(r"[0-9]{17}-[0-9]{6}\.shown")  # what entry_name() makes


class Saved:
    """What Archive.save promised: true when the picture was taken (not dropped, not
    paused, archive enabled); `writing` once the journal thread has begun to write it,
    `settled` once its journal entry is on disk (`ok`) or cannot be (`error`). Set by the
    archive's thread, read by the frame thread."""

    def __init__(self, accepted: bool, error: str = "") -> None:
        self.accepted = accepted
        self.error = error
        self.writing = not accepted
        self._done = threading.Event()
        if not accepted:
            self._done.set()

    def __bool__(self) -> bool:
        return self.accepted

    def __repr__(self) -> str:
        state = "ok" if self.ok else self.error or ("settled" if self.settled else "pending")
        return f"<Saved {state}>"

    @property
    def settled(self) -> bool:
        return self._done.is_set()

    @property
    def ok(self) -> bool:
        return self.settled and self.accepted and not self.error

    def wait(self, timeout: float) -> bool:
        """Tests and tools: block until settled."""
        return self._done.wait(timeout)

    def settle(self, error: str = "") -> None:
        self.error = error
        self.writing = True
        self._done.set()


@dataclass
class Taken:
    """One image taken by Archive.save, on its way into the journal."""

    image: np.ndarray
    variation: Variation
    engine: str
    describe: dict[str, str]
    when: float
    ticket: Saved
    source: Path | None = None  # the same pixels as a PNG on disk already (a cache file)
    name: str = ""  # its entry's name, once the journal thread numbered it


@dataclass(frozen=True)
class Entry:
    """One journalled picture: the archive file's text chunks, when it was shown, pixels."""

    path: Path
    text: dict[str, str]
    when: float
    number: int
    key: str
    image: np.ndarray
    linked: Path | None = None  # the hard-linked PNG the pixels came from, if any

    @property
    def id(self) -> str:
        return self.path.stem

    @property
    def files(self) -> tuple[Path, ...]:
        """What to delete once archived: the entry, then its linked PNG."""
        return (self.path,) if self.linked is None else (self.path, self.linked)


def entry_name(when: float, seq: int) -> str:
    return f"{round(when * 1_000_000):017d}-{seq:06d}{SUFFIX}"


# A link that cannot be made here: another filesystem, no links (FAT), too many links, or
# the source gone (the cache trimmed it just now), the name taken. The pixels are written.
NO_LINK = {
    errno.EXDEV,
    errno.EPERM,
    errno.ENOTSUP,
    errno.EMLINK,
    errno.ENOENT,
    errno.EACCES,
    errno.EEXIST,
}


def write_entry(
    folder: Path,
    name: str,
    image: np.ndarray,
    text: dict[str, str],
    *,
    when: float,
    source: Path | None = None,
    spares: Spares | None = None,
) -> Path:
    """Write one entry atomically (temp file, fsync, rename, folder fsync). Raises OSError.
    With `source` (a PNG of exactly these pixels, safe on disk) the entry links it and
    holds no pixels, unless the link cannot be made. With `spares`, the entry goes into a
    spare of its size when there is one, in one write (spares.py): the path returned is
    then the spare's, until spares.name() gives it the entry's name."""
    as_rgb_array(image)
    header: dict[str, Any] = {
        "v": 1,
        "when": when,
        "number": text.get("number", ""),
        "key": text.get("key", ""),
        "shape": list(image.shape),
        "text": text,
    }
    path = folder / name
    if source is not None and _link(source, path.with_suffix(LINKED)):
        header["png"] = path.with_suffix(LINKED).name
        if spares is not None and (head := padded({**header, "name": name})) is not None:
            fsync_dir(folder)  # the link's name first: an entry never names a lost link
            if (spared := spares.write(head, None)) is not None:
                return spared
        # the folder fsync after the rename makes the link's name durable too
        write_atomic(path, json.dumps(header, ensure_ascii=True).encode("ascii") + b"\n")
        return path
    pixels = np.ascontiguousarray(image).data.cast("B")
    if spares is not None:
        head = padded({**header, "name": name, "crc": zlib.crc32(pixels)})
        if head is not None and (spared := spares.write(head, pixels)) is not None:
            return spared
    line = json.dumps(header, ensure_ascii=True).encode("ascii") + b"\n"

    def fill(f: Any) -> None:
        f.write(line)
        f.write(pixels)

    write_atomic(path, fill)
    return path


def _link(source: Path, link: Path) -> bool:
    try:
        os.link(source, link, follow_symlinks=False)
    except OSError as e:
        if e.errno in NO_LINK:
            return False
        raise
    return True


def read_entry(path: Path, name: str | None = None) -> Entry:
    """One entry back from disk. Raises OSError (cannot read) or ValueError (not an entry).
    `name`: a spare file read as the entry it holds (its linked PNG is named after that)."""
    data = path.read_bytes()
    end = data.find(b"\n", 0, MAX_HEADER)
    if end < 0:
        raise ValueError(f"{path.name}: no header line")
    try:
        header = json.loads(data[:end])
        h, w, c = (int(n) for n in header["shape"])
        text = {str(k): str(v) for k, v in dict(header["text"]).items()}
        when = float(header["when"])
        number = int(header.get("number") or -1)
        key = str(header.get("key", ""))
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path.name}: bad header ({e})") from None
    size = h * w * c
    if c != 3 or not 0 < size <= MAX_PIXELS:
        raise ValueError(f"{path.name}: a picture of {h}x{w}x{c}")
    if "png" in header:  # a linked PNG, beside the entry (never a path elsewhere)
        linked = (path if name is None else path.with_name(name)).with_suffix(LINKED)
        if header["png"] != linked.name or len(data) != end + 1:
            raise ValueError(f"{path.name}: names {header['png']!r}, not {linked.name}")
        return Entry(path, text, when, number, key, _read_linked(linked, (h, w)), linked)
    if len(data) - end - 1 != size:
        raise ValueError(f"{path.name}: {len(data) - end - 1} bytes of pixels for {h}x{w}x{c}")
    image = np.frombuffer(data, np.uint8, size, end + 1).reshape(h, w, 3)
    if "crc" in header and zlib.crc32(image.data) != header["crc"]:
        raise ValueError(f"{path.name}: pixels do not match their CRC")
    return Entry(path, text, when, number, key, image)


def _read_linked(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """The linked PNG's pixels, checked against the entry's shape before decoding.
    Raises OSError (cannot read) or ValueError (not that picture)."""
    h, w = shape
    try:
        data = read_bounded(path, h * w * 3 * 2 + MAX_HEADER)  # a PNG is rarely above raw
    except Damage as e:
        raise ValueError(f"{path.name}: {e}") from None
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            if im.size != (w, h) or im.mode != "RGB":
                raise ValueError(f"{path.name}: {im.size} {im.mode}, not {w}x{h} RGB")
            im.load()
            return np.asarray(im, dtype=np.uint8)
    except (OSError, SyntaxError) as e:  # PIL's errors for a file that is no PNG
        raise ValueError(f"{path.name}: not a PNG ({e})") from None


def pending_entries(
    folder: Path, on_error: Callable[[OSError], None], remove: Callable[[Path], None]
) -> list[Path]:
    """The entries left in the journal, oldest first. Temp files of a crash are removed;
    spares holding a complete entry get its name, the others are deleted (spares.py); and
    (through `remove`, the archive's deletion kept inside storage) links whose entry was
    never written are deleted: a crash came before it, so the picture was never shown."""
    found = scan_folder(
        folder, lambda name: name.endswith((SUFFIX, LINKED)) or is_spare(name), on_error
    )
    entries = {f.path for f in found if f.path.name.endswith(SUFFIX)}
    for f in found:
        if is_spare(f.path.name) and (named := recover_spare(f.path, remove)) is not None:
            entries.add(named)
    for f in found:
        if f.path.name.endswith(LINKED) and f.path.with_suffix(SUFFIX) not in entries:
            remove(f.path)
    return sorted(entries, key=lambda p: p.name)


def recover_spare(path: Path, remove: Callable[[Path], None]) -> Path | None:
    """A spare left by an earlier run (spares.py): renamed to the entry its header names
    when that entry reads back whole (read_entry: sizes, CRC, the linked PNG), else deleted
    through `remove`: blank, or torn by a crash mid-write (never settled, never shown)."""
    name = _spare_name(path)
    try:
        if name is None or os.path.lexists(path.parent / name):
            raise ValueError(f"{path.name}: no entry in it")
        read_entry(path, name)
        os.rename(path, path.parent / name)
    except (OSError, ValueError):
        remove(path)
        return None
    return path.parent / name


def _spare_name(path: Path) -> str | None:
    """The entry name in a spare's padded header, if it has one (a blank spare is zeros)."""
    try:
        with open(path, "rb") as f:
            name = json.loads(f.read(HEADER_SLOT)).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and _ENTRY_NAME.fullmatch(name) else None
