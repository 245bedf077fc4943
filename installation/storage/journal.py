"""The archive's journal: each shown picture on disk before it goes up, until archived.

A PNG takes a few hundred ms to encode at 1024² (PIL's filters, at any compression
level); the raw pixels with a one-line JSON header take a write and an fsync (~15 ms
for 3 MB here). So the archive first writes that entry, atomically, into
<archive>/.journal/ and says so through a Saved ticket, which the presenter waits on
(at most DURABLE_WAIT_S) before the picture goes up; the PNG is made from the entry
afterwards and the entry deleted. A kill -9 or a power cut in between leaves the entry,
and the next start archives it: whatever reached the wall reaches the archive.

An entry is `<microseconds since the epoch>-<seq>.shown`: the order shown, across runs.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.variations import Variation
from installation.storage.atomic import write_atomic
from installation.storage.diskutil import scan_folder
from installation.storage.png import as_rgb_array

SUFFIX = ".shown"
MAX_HEADER = 1 << 20  # the JSON line before the pixels (text chunks are short)
MAX_PIXELS = 1 << 28


class Saved:
    """What Archive.save promised: true when the picture was taken (not dropped, not
    paused, archive enabled); `settled` once its journal entry is on disk (`ok`) or
    cannot be (`error`). Set by the archive's thread, read by the frame thread."""

    def __init__(self, accepted: bool, error: str = "") -> None:
        self.accepted = accepted
        self.error = error
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


@dataclass(frozen=True)
class Entry:
    """One journalled picture: the archive file's text chunks, when it was shown, pixels."""

    path: Path
    text: dict[str, str]
    when: float
    number: int
    key: str
    image: np.ndarray

    @property
    def id(self) -> str:
        return self.path.stem


def entry_name(when: float, seq: int) -> str:
    return f"{round(when * 1_000_000):017d}-{seq:06d}{SUFFIX}"


def write_entry(
    folder: Path, name: str, image: np.ndarray, text: dict[str, str], *, when: float
) -> Path:
    """Write one entry atomically (temp file, fsync, rename, folder fsync). Raises OSError."""
    as_rgb_array(image)
    header = {
        "v": 1,
        "when": when,
        "number": text.get("number", ""),
        "key": text.get("key", ""),
        "shape": list(image.shape),
        "text": text,
    }
    line = json.dumps(header, ensure_ascii=True).encode("ascii") + b"\n"
    pixels = np.ascontiguousarray(image)

    def fill(f: Any) -> None:
        f.write(line)
        f.write(pixels.data.cast("B"))

    path = folder / name
    write_atomic(path, fill)
    return path


def read_entry(path: Path) -> Entry:
    """One entry back from disk. Raises OSError (cannot read) or ValueError (not an entry)."""
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
    if c != 3 or not 0 < size <= MAX_PIXELS or len(data) - end - 1 != size:
        raise ValueError(f"{path.name}: {len(data) - end - 1} bytes of pixels for {h}x{w}x{c}")
    image = np.frombuffer(data, np.uint8, size, end + 1).reshape(h, w, 3)
    return Entry(path, text, when, number, key, image)


def pending_entries(folder: Path, on_error: Any) -> list[Path]:
    """The entries left in the journal, oldest first (temp files of a crash removed)."""
    found = scan_folder(folder, lambda name: name.endswith(SUFFIX), on_error)
    return sorted((f.path for f in found), key=lambda p: p.name)
