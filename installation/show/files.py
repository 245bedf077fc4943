"""Reading a show's files without trusting them: regular files only, bounded in size.

A FIFO named show.toml (or painting.png) would block open() and read() forever, a
symlink to /dev/zero never ends, and /dev/null reads as an empty, valid show. So every
file a show names is stat()ed first, opened with O_NONBLOCK (a FIFO swapped in after
the stat cannot block the open), checked again on the open descriptor and read up to
its limit plus one byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

MIB = 1024 * 1024
# A big show.toml is a few KiB; 8 dice x 100 faces of variants is ~80 KiB. A hostile file
# at this limit takes about 2 s to refuse (tomllib and the line scanner are pure Python).
SHOW_FILE_LIMIT = 256 * 1024
IMAGE_FILE_LIMIT = 256 * MIB  # a painting scanned at 600 dpi as a PNG is tens of MiB

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileProblem(Exception):
    """Why a file cannot be read: the text completes 'file X ...'."""


def kind_of(mode: int) -> str:
    """'a regular file', 'a named pipe (FIFO)', 'a character device' ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


def size_text(n: int) -> str:
    """1048576 -> '1 MiB', 5000 -> '4.9 KiB'."""
    for unit, size in (("GiB", MIB * 1024), ("MiB", MIB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _too_big(what: str, limit: int) -> str:
    return f"{what}; the limit is {limit} bytes ({size_text(limit)})"


def _check_stat(st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(f"is {kind_of(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise FileProblem(_too_big(f"is {st.st_size} bytes", limit))


def open_regular(path: Path, limit: int) -> BinaryIO:
    """The open file at `path` (symlinks followed) if it is a regular file of at most
    `limit` bytes; FileProblem otherwise. Never blocks on a FIFO or a device."""
    try:
        try:
            _check_stat(os.stat(path), limit)
        except FileProblem as e:
            real = os.path.realpath(path)  # say where a symbolic link leads
            link = f" (it leads to {real})" if real != os.path.abspath(path) else ""
            raise FileProblem(f"{e}{link}") from None
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
    except FileProblem:
        raise
    except (OSError, ValueError) as e:  # ValueError: a NUL character in the path
        raise FileProblem(f"cannot be opened ({getattr(e, 'strerror', None) or e})") from None
    try:
        _check_stat(os.fstat(fd), limit)  # what was opened, not what was there before
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: reads never wait anyway
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; FileProblem otherwise.
    A file that grows past the limit while being read is refused too."""
    with open_regular(path, limit) as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise FileProblem(f"cannot be read ({e.strerror or e})") from None
    if len(data) > limit:  # it grew while being read, or a size the file system hid
        raise FileProblem(_too_big(f"has more than {limit} bytes", limit))
    return data
