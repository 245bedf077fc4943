"""One kiosk per storage folder: an exclusive flock on <storage>/kiosk.lock.

Two kiosks on one storage number their variations alike and lose each other's counts
in state.json, so `installation run` takes this lock before it opens a window or starts
a worker. The lock file holds the owner's pid and show name, so the second one can say
who runs. The kernel drops an flock when its process dies, kill -9 included, so a
crash never leaves a stale lock; the file itself stays (deleting it would let a third
process lock a fresh file while the second still holds the old one). The fd is
close-on-exec: the worker (spawned) and other children never hold the lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import logging
import os
import stat
import tempfile
import time
from pathlib import Path

from installation.errors import StorageBusy, StorageError

log = logging.getLogger(__name__)

LOCK_NAME = "kiosk.lock"
HOLDER_WAIT_S = 0.5  # the owner writes its pid right after locking: wait that long for it


class StorageLock:
    """Held for the life of the kiosk; release() (or process exit) lets the next one in."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    def __repr__(self) -> str:
        return f"<StorageLock {self.path} {'held' if self._fd is not None else 'released'}>"

    @classmethod
    def acquire(cls, storage: Path, show: str) -> StorageLock:
        """The lock, or StorageBusy naming the pid and show that hold it, or StorageError
        with the fix when storage is read-only, not writable or cannot be created."""
        storage = Path(storage)
        fix = "or set [storage] dir in show.toml to a folder the kiosk may write"
        try:
            storage.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(
                f"storage {storage} cannot be created ({_why(e)}); {_fix(e, fix)}"
            ) from None
        path = storage / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise StorageError(
                f"storage {storage}: cannot open {LOCK_NAME} ({_why(e)}); {_fix(e, fix)}"
            ) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StorageError(f"{path} is not a regular file; remove it")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, holder = _holder(fd)
                who = holder or "another show"
                raise StorageBusy(
                    f"already running (pid {pid or '?'}): {who} uses {storage}",
                    tool=_tool(holder),
                ) from None
            except OSError as e:  # a filesystem without locks: the wall stays lit anyway
                log.warning(
                    "storage %s cannot be locked (%s); a second kiosk on it would not be stopped",
                    storage,
                    _why(e),
                )
            _write_holder(fd, show)
            _probe(storage, fix)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # nobody holds it: no pid to report
            os.close(fd)

    def __enter__(self) -> StorageLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _holder(fd: int) -> tuple[int, str]:
    """The pid and show written in the lock file (0, '' if the owner has not yet)."""
    deadline = time.monotonic() + HOLDER_WAIT_S
    while True:
        text = os.pread(fd, 512, 0).decode("utf-8", "replace")
        lines = text.split("\n")
        if len(lines) >= 3 and lines[0].isdigit():
            return int(lines[0]), lines[1]
        if time.monotonic() >= deadline:
            return 0, ""
        time.sleep(0.02)  # the owner is between its flock and its write


def _tool(holder: str) -> str | None:
    """'sheet' for a holder written as 'demo (installation sheet)': a tool, not a kiosk."""
    if holder.endswith(")") and " (installation " in holder:
        return holder.rsplit(" (installation ", 1)[1][:-1] or None
    return None


def _write_holder(fd: int, show: str) -> None:
    """Our pid and show into the lock file, for the next one's message (a full disk only
    costs the pid in that message)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{show}\n".encode(), 0)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise StorageError(f"cannot write {LOCK_NAME} ({_why(e)})") from None


def _probe(storage: Path, fix: str) -> None:
    """A file can be made in storage (a full disk is not a reason to stay dark)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".probe.", suffix=".tmp", dir=storage)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            return
        raise StorageError(
            f"storage {storage} is not writable ({_why(e)}); {_fix(e, fix)}"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _why(e: OSError) -> str:
    return e.strerror or str(e)


def _fix(e: OSError, fix: str) -> str:
    if e.errno == errno.EROFS:
        return f"remount it read-write {fix}"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"give user {_user()} write access to it {fix}"
    if e.errno == errno.ELOOP:
        return f"{LOCK_NAME} there is a symlink: remove it"
    return f"create it {fix}"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid
        return str(os.getuid())
