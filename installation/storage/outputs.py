"""Paths a person names for output (`-o FILE`, `--to DIR`): written as meant, nothing else.

`-o` writes a new file or replaces a regular file; it never writes to or replaces a
device, a FIFO, a socket or a folder, and never follows or replaces a symlink (the link
might point anywhere). A missing folder is created only when asked (`--parents`). The
checks run before any work starts, and write_atomic(..., output=True) checks the file
again just before its rename.

Only the last part of the path is looked at: folders on the way (`/tmp`, a home folder
that is a link) are the user's own path and resolve as usual.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from installation.errors import OutputPathError

FILE_ACCEPTS = "a new file or an existing regular file (never a device, FIFO, folder or symlink)"
DIR_ACCEPTS = "a new folder or an existing folder (never a file, device or symlink)"


def kind_of(st: os.stat_result, path: Path | None = None) -> str:
    """What an lstat result is, in words: 'a symlink (to /x)', 'a character device' ..."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        try:
            return f"a symlink (to {os.readlink(path)})" if path is not None else "a symlink"
        except OSError:
            return "a symlink"
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _lstat(path: Path, option: str = "") -> os.stat_result | None:
    where = f"{option} {path}".strip()
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputPathError(f"{where}: {path.parent} is not a folder") from None
    except OSError as e:
        raise OutputPathError(f"{where}: cannot be checked ({e.strerror})") from None


def checked_output(path: Path | str, *, parents: bool, option: str = "-o") -> Path:
    """`path` if a file may be written there (see the module doc), else OutputPathError.

    parents=True creates the missing folders (the `--parents` flag); otherwise a missing
    folder is an error that says to create it or pass --parents."""
    path = Path(path)
    st = _lstat(path, option)
    if st is not None:
        if stat.S_ISREG(st.st_mode):
            return path
        raise OutputPathError(
            f"{option} {path}: is {kind_of(st, path)}; {option} takes {FILE_ACCEPTS}"
        )
    _folder_for(path, parents=parents, option=option)
    return path


def checked_output_dir(path: Path | str, *, parents: bool, option: str = "--to") -> Path:
    """The folder `path`, created if missing (its own parent must exist unless parents),
    or OutputPathError when it is anything but a real folder."""
    path = Path(path)
    st = _lstat(path, option)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return path
        raise OutputPathError(
            f"{option} {path}: is {kind_of(st, path)}; {option} takes {DIR_ACCEPTS}"
        )
    _folder_for(path, parents=parents, option=option)
    try:
        path.mkdir()
    except FileExistsError:  # made meanwhile: check what it is now
        return checked_output_dir(path, parents=False, option=option)
    except OSError as e:
        raise OutputPathError(f"{option} {path}: cannot create the folder ({e.strerror})") from None
    return path


def _folder_for(path: Path, *, parents: bool, option: str) -> None:
    """The folder that will hold `path` exists (made when parents), or OutputPathError."""
    folder = path.parent
    if folder.is_dir():  # the user's own path: links on the way resolve as usual
        return
    if folder.exists():
        raise OutputPathError(f"{option} {path}: {folder} is not a folder")
    if not parents:
        raise OutputPathError(
            f"{option} {path}: the folder {folder} does not exist; create it first or add --parents"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputPathError(f"{option} {path}: cannot create {folder} ({e.strerror})") from None


def replaceable(path: Path) -> None:
    """Just before a rename onto `path`: it is missing or a regular file, else
    OutputPathError (something put a device, FIFO, folder or link there meanwhile)."""
    st = _lstat(path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputPathError(f"{path}: is {kind_of(st, path)}; only {FILE_ACCEPTS} is replaced")


def checked_link(path: Path | str, *, option: str = "--link") -> Path:
    """A path where a symlink will be kept (and replaced): missing, or a symlink already,
    and `path.tmp` beside it likewise; OutputPathError for anything else there (a file,
    a folder, a device) or a missing folder. Replacing a device node with a link as root
    would break the device."""
    path = Path(path)
    for p in (path, path.with_name(path.name + ".tmp")):
        st = _lstat(p, option)
        if st is not None and not stat.S_ISLNK(st.st_mode):
            raise OutputPathError(
                f"{option} {p}: is {kind_of(st, p)}; {option} takes a new path or an existing "
                "symlink (it is replaced by a link to the pty)"
            )
    _folder_for(path, parents=False, option=option)
    return path
