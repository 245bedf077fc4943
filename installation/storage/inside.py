"""Work inside the storage folder: deletions and the folders writes need, never via a link.

The archive prunes, the cache evicts and fresh mode discards; each of those deletes a
file it found in storage. A day folder or the cache folder replaced by a symlink must
not turn that into a deletion (or a write) somewhere else, so every deletion walks from
the storage folder down with O_NOFOLLOW (a link on the way is refused, also one swapped
in during the walk), looks at the last part without following it, and removes only a
regular file (or an empty folder); make_folders creates the folders of a write the same
way. The storage folder itself may be a link: it is the technician's own setting
([storage] dir).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from installation.storage.outputs import kind_of

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Refused(OSError):
    """Work that would leave storage or follow a link; the message says which. An OSError,
    so a caller that survives disk trouble survives this too."""


def remove_file(storage: Path, path: Path) -> bool:
    """Delete the regular file `path` inside `storage`. True if deleted, False if it was
    already gone; Refused for a path outside storage, a link on the way or at the end, or
    anything but a regular file; OSError for the disk's own errors."""
    try:
        fd, name = _parent_fd(storage, path)
    except FileNotFoundError:
        return False
    try:
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{path} is {kind_of(st)}; only regular files are deleted")
        try:
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            return False
        return True
    finally:
        os.close(fd)


def remove_empty_folder(storage: Path, path: Path) -> bool:
    """Remove the folder `path` inside `storage` if it is empty (never a link). True if it
    went; False if it is not empty, gone or not a real folder."""
    try:
        fd, name = _parent_fd(storage, path)
    except (FileNotFoundError, Refused):
        return False
    try:
        os.rmdir(name, dir_fd=fd)  # ENOTDIR for a link, ENOTEMPTY when in use
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def make_folders(storage: Path, folder: Path) -> None:
    """Create `folder` and the folders above it inside storage (storage too, if missing),
    never through a link: Refused when one is on the way; OSError for the disk's errors."""
    Path(storage).mkdir(parents=True, exist_ok=True)
    fd, _ = _parent_fd(storage, Path(folder) / "-", create=True)
    os.close(fd)


def is_inside(storage: Path, path: Path) -> bool:
    """Every folder from storage down to `path`'s own folder is a real folder (no link)."""
    try:
        fd, _ = _parent_fd(storage, path)
    except (OSError, Refused):
        return False
    os.close(fd)
    return True


def _parent_fd(storage: Path, path: Path, *, create: bool = False) -> tuple[int, str]:
    """An open fd of the folder holding `path`, reached from storage without following a
    link (create: making missing folders), and the last part's name. Refused when path is
    not below storage."""
    root = Path(os.path.abspath(storage))
    full = Path(os.path.abspath(path))
    try:
        parts = full.relative_to(root).parts
    except ValueError:
        raise Refused(f"{path} is outside the storage folder {storage}") from None
    if not parts:
        raise Refused(f"{path} is the storage folder itself")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        walked = root
        for part in parts[:-1]:
            walked = walked / part
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Refused(
                        f"{walked} is a symlink or not a folder; deletions in {storage} "
                        "never follow links"
                    ) from None
                raise
            os.close(fd)
            fd = next_fd
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    return fd, parts[-1]
