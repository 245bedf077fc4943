"""Disk habits shared by the outcome cache and the archive.

DiskPause rests a failing disk: the show goes on without it, the trouble is logged once
(per kind) and the disk is tried again after retry_s. scan_folder indexes a folder that
other processes or threads may be changing, and removes the temp files a crash left.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class DiskPause:
    """When a disk last failed and whether it may be tried again. Thread-safe enough:
    one writer thread reports; readers only look."""

    def __init__(self, retry_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_s, self.clock = retry_s, clock
        self.until: float | None = None  # no disk work before this time
        self._logged: set[str] = set()

    @property
    def paused(self) -> bool:
        """The disk failed and has not worked since (it may be due for a retry)."""
        return self.until is not None

    def usable(self) -> bool:
        """True unless the disk is resting."""
        until = self.until
        return until is None or self.clock() >= until

    def trouble(self, kind: str) -> bool:
        """Rest the disk for retry_s; True the first time this kind is seen since it last
        worked, so the caller logs it once, not once per image."""
        self.until = self.clock() + self.retry_s
        if kind in self._logged:
            return False
        self._logged.add(kind)
        return True

    def worked(self) -> bool:
        """The disk worked again; True if it had been paused (log the recovery once)."""
        if self.until is None:
            return False
        self.until = None
        self._logged.clear()
        return True


@dataclass(frozen=True)
class Found:
    """One file found by scan_folder."""

    path: Path
    mtime: float
    size: int


def is_temp(name: str) -> bool:
    """A temp file of an atomic write (atomic.write_atomic): '.<name>.<random>.tmp'."""
    return name.startswith(".") and name.endswith(".tmp")


def scan_folder(
    folder: Path,
    wanted: Callable[[str], bool],
    on_error: Callable[[OSError], None],
    *,
    folders: bool = False,
    storage: Path | None = None,
    on_other: Callable[[Path, str], None] | None = None,
) -> list[Found]:
    """The regular files (folders=True: the real folders) in folder whose names are
    wanted, deleting leftover temp files. Links are never followed: a wanted name that is
    a symlink or of the other kind goes to on_other(path, what it is) and is left alone.

    A missing folder is empty. Files that vanish during the scan (another process
    deleting) are skipped, never the end of the scan; any other error on one file goes
    to on_error and the scan goes on. An error listing the folder goes to on_error too.
    Temp files are deleted only inside `storage` (removal.remove_file; default: folder
    itself), never through a link.
    """
    from installation.storage.inside import Refused, remove_file
    from installation.storage.outputs import kind_of

    found: list[Found] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if is_temp(entry.name):
                    with contextlib.suppress(OSError, Refused):
                        remove_file(storage or folder, Path(entry.path))
                    continue
                if not wanted(entry.name):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError as e:
                    on_error(e)
                    continue
                ok = stat.S_ISDIR(st.st_mode) if folders else stat.S_ISREG(st.st_mode)
                if not ok:
                    if on_other is not None:
                        on_other(Path(entry.path), kind_of(st, Path(entry.path)))
                    continue
                found.append(Found(Path(entry.path), st.st_mtime, st.st_size))
    except FileNotFoundError:
        pass
    except OSError as e:
        on_error(e)
    return found
