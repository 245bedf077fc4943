"""The storage lock in one process: two opens of the lock file conflict like two kiosks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from installation.errors import StorageBusy, StorageError
from installation.storage.lock import LOCK_NAME, StorageLock


def test_one_holder_at_a_time_and_free_after_release(tmp_path: Path) -> None:
    storage = tmp_path / "new" / "var"  # made on the way, as the kiosk always did
    with StorageLock.acquire(storage, "spring"):
        assert (storage / LOCK_NAME).read_text() == f"{os.getpid()}\nspring\n"
        with pytest.raises(StorageBusy, match=rf"^already running \(pid {os.getpid()}\): "):
            StorageLock.acquire(storage, "autumn")
        assert [p.name for p in storage.iterdir()] == [LOCK_NAME]  # no probe file left
    with StorageLock.acquire(storage, "autumn"):
        assert (storage / LOCK_NAME).read_text().endswith("\nautumn\n")


def test_a_lock_file_that_is_a_link_or_a_fifo_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / LOCK_NAME).symlink_to(target)
    with pytest.raises(StorageError, match=r"kiosk\.lock there is a symlink: remove it"):
        StorageLock.acquire(tmp_path / "a", "spring")
    assert target.read_text() == "keep"
    (tmp_path / "b").mkdir()
    os.mkfifo(tmp_path / "b" / LOCK_NAME)
    with pytest.raises(StorageError, match="is not a regular file; remove it"):
        StorageLock.acquire(tmp_path / "b", "spring")
