"""Small real filesystems for tests: a tmpfs mounted for the length of a block.

Full disks, read-only disks and a second filesystem (where hard links fail with EXDEV)
are real mounts here, not mocks. Mounting needs root; where it cannot be done the test
is skipped with the reason."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from installation.ops.soak import inject


@contextmanager
def tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size` on `path` (made if missing), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    why = inject.mount_tmpfs(path, size)
    if why:
        pytest.skip(f"no tmpfs to test with: {why}")
    try:
        yield path
    finally:
        inject.unmount(path)


def read_only(path: Path) -> None:
    """Remount a tmpfs of tmpfs() read-only (what a failing SD card turns into)."""
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, timeout=30)
