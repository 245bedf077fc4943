"""Atomic file writes: a power cut leaves the old file or the new one, never half of one.

Write to a temp file in the same folder, fsync, then os.replace, then fsync the folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from installation.storage.outputs import replaceable


def write_atomic(
    path: Path,
    data: bytes | Callable[[BinaryIO], None],
    *,
    mode: int = 0o644,
    output: bool = False,
) -> None:
    """Every file the installation writes for keeps goes through here.

    Temp file in the same folder, fsync, os.replace, then fsync of the folder so the
    rename itself survives a power cut. Readers see the old file or the new one,
    never half of one; on any failure the temp file is removed. `data` is bytes or a
    function that writes into the open file (a PNG encoder, say).

    output=True is for a path a person named (`-o`, see storage/outputs.py): its folder
    must exist (none is made) and only a regular file is replaced, checked again just
    before the rename (a device, FIFO, folder or symlink raises OutputPathError)."""
    path = Path(path)
    if not output:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if output:
            replaceable(path)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make the names in `folder` (a rename, a new file, a link) survive a power cut."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the data is safe anyway
        pass
    finally:
        os.close(fd)
