"""Spare journal files: a picture journalled with one system call.

A new file costs the journal a temp file, its write, an fsync, a rename and an fsync of
the folder: about ten system calls, and the journal thread must get Python's GIL back
after each while the frame thread draws and a slide is painted (17-19 ms for a 12 KB
entry under such contention here, against 2-3 ms for one call). So while the journal is
idle it makes a few spare files ahead, each the exact size of the entry to come: zeros
written and fsynced (its blocks allocated and written, so overwriting them changes no
metadata), the folder fsynced (the name survives a power cut), and the file kept open
with O_DSYNC. An entry then goes into a spare with one `pwritev` and is on disk when
that returns; the rename to the entry's name comes afterwards, unsynced.

The header line is padded to HEADER_SLOT bytes, so an entry's size is known before its
text is: HEADER_SLOT + its pixels, or HEADER_SLOT alone for an entry naming a linked PNG.
A crash may leave an entry under its spare name: its header names the entry and its
pixels carry a CRC, so the next start renames the complete ones and deletes the rest, blank
or torn (journal.recover_spare): a write that did not complete was never settled, so its
picture never went up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from installation.storage.atomic import fsync_dir

log = logging.getLogger("installation.storage.archive")

PREFIX = ".spare-"
HEADER_SLOT = 4096  # an entry's header line, padded with spaces to this (newline last)
KEEP = 3  # spares made ahead per size
SIZES = 2  # sizes kept: the newest picture's entry, and a linked entry's header alone
MAX_SPARE = 64 << 20  # no spares for an entry above this (the show's pictures are smaller)
_ZEROS = 1 << 20
_FLAGS = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def is_spare(name: str) -> bool:
    return name.startswith(PREFIX) and not name.endswith(".tmp")


def padded(header: dict[str, object]) -> bytes | None:
    """The header as one line of exactly HEADER_SLOT bytes; None if it does not fit."""
    line = json.dumps(header, ensure_ascii=True).encode("ascii")
    if len(line) >= HEADER_SLOT:
        return None
    return line + b" " * (HEADER_SLOT - 1 - len(line)) + b"\n"


class Spares:
    """The journal thread's spare files (one thread uses it; not locked)."""

    def __init__(self, folder: Path, remove: Callable[[Path], None], keep: int = KEEP) -> None:
        self.folder = folder
        self.keep = keep
        self._remove = remove  # the archive's deletion, kept inside storage
        self._free: dict[int, list[tuple[Path, int]]] = {}  # size -> spares, open O_DSYNC
        self._taken: dict[Path, int] = {}  # written, their fd not yet closed
        self._want: list[int] = []  # sizes asked for lately, newest last
        self._n = 0
        self.used = 0  # entries written into a spare
        self.missed = 0  # entries written the long way: no spare of their size yet

    def __repr__(self) -> str:
        have = {size: len(free) for size, free in self._free.items()}
        return f"<Spares {have} used={self.used} missed={self.missed}>"

    def write(self, head: bytes, pixels: memoryview | None) -> Path | None:
        """Write one entry (a padded header, then its pixels, if any) into a spare of its
        exact size, durably; the spare's path, or None when there is none of that size.
        Raises OSError (the spare is deleted)."""
        size = len(head) + (0 if pixels is None else pixels.nbytes)
        if size > MAX_SPARE:
            return None
        self._wish(size)
        free = self._free.get(size)
        if not free:
            self.missed += 1
            return None
        path, fd = free.pop()
        try:
            done = os.pwritev(fd, [head] if pixels is None else [head, pixels], 0)
            if done < size:  # a short write (rare): the rest, still O_DSYNC
                data = head + (b"" if pixels is None else bytes(pixels))
                while done < size:
                    done += os.pwrite(fd, data[done:], done)
        except OSError:
            os.close(fd)
            self._remove(path)
            raise
        self._taken[path] = fd
        self.used += 1
        return path

    def name(self, path: Path, entry: str) -> Path | None:
        """A written spare becomes its entry (after its ticket settled: not synced; a crash
        before leaves it to journal.recover_spare). None if it cannot be renamed now: it
        stays a spare holding its entry until the next start recovers it."""
        fd = self._taken.pop(path, None)
        if fd is None:
            return path
        os.close(fd)
        try:
            os.rename(path, self.folder / entry)
        except OSError as e:
            log.warning("archive: journal entry %s not renamed (%s)", entry, e)
            return None
        return self.folder / entry

    def short(self) -> bool:
        """Some size asked for lately has fewer than `keep` spares."""
        return any(len(self._free.get(size, ())) < self.keep for size in self._want)

    def refill(self) -> None:
        """Make one spare of a size short of them (the journal is idle). Raises OSError."""
        for size in reversed(self._want):
            free = self._free.setdefault(size, [])
            if len(free) < self.keep:
                free.append(self._make(size))
                return

    def idle(self, usable: Callable[[], bool]) -> None:
        """The journal is idle: make one spare if the disk is `usable`. One that cannot be
        made (a full disk) stops them until an entry asks again; entries take the long way."""
        if not usable():
            return
        try:
            self.refill()
        except OSError as e:
            log.debug("archive: no spare journal file (%s)", e)
            self._want.clear()

    def close(self) -> None:
        """Close every spare and delete the unused ones (the journal stops)."""
        for path, fd in [s for free in self._free.values() for s in free]:
            os.close(fd)
            self._remove(path)
        for fd in self._taken.values():
            os.close(fd)  # written and settled: journal.recover_spare() names it at the next start
        self._free.clear()
        self._taken.clear()

    def _wish(self, size: int) -> None:
        if size in self._want:
            self._want.remove(size)
        self._want.append(size)
        for old in self._want[:-SIZES]:
            self._want.remove(old)
            for path, fd in self._free.pop(old, []):
                os.close(fd)
                self._remove(path)

    def _make(self, size: int) -> tuple[Path, int]:
        fd = -1
        while True:
            self._n += 1
            path = self.folder / f"{PREFIX}{os.getpid()}-{self._n}"
            try:
                fd = os.open(path, _FLAGS | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileExistsError:
                continue
        try:
            zeros = bytes(min(size, _ZEROS))
            done = 0
            while done < size:
                done += os.pwrite(fd, zeros[: size - done], done)
            os.fsync(fd)
            os.close(fd)
            fd = -1
            fd = os.open(path, _FLAGS | os.O_DSYNC)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        fsync_dir(self.folder)
        return path, fd
