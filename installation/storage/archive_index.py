"""The archive's index: the archived files, oldest first, and pruning to max_files and
max_mb. Pruning, indexing and making folders stay inside the storage folder and never
pass a symlink (storage/inside.py): a day folder linked elsewhere is left alone, never
emptied; what is refused is counted and logged once per kind."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.storage import inside
from installation.storage.archive_meta import DAY
from installation.storage.diskutil import scan_folder

log = logging.getLogger("installation.storage.archive")


class ArchiveIndex:
    def __init__(
        self,
        root: Path,
        storage: Path,
        *,
        max_files: int,
        max_bytes: int,
        counts: dict[str, int],
        lock: threading.Lock | threading.Condition,
    ) -> None:
        self.root, self.storage = root, storage
        self.max_files, self.max_bytes = max_files, max_bytes
        self.counts = counts  # the archive's counters: pruned, refused
        self.counts.setdefault("refused", 0)
        self._lock = lock  # the archive's lock (its threads and stats share the index)
        self._files: deque[tuple[Path, int]] = deque()  # oldest first
        self._bytes = 0
        self._refusals_logged: set[str] = set()

    def __len__(self) -> int:
        return len(self._files)

    @property
    def bytes(self) -> int:
        return self._bytes

    def add(self, path: Path, size: int) -> None:
        """A new archive file (call with the archive's lock held)."""
        self._files.append((path, size))
        self._bytes += size

    def make_folders(self, folder: Path) -> bool:
        """Create `folder` inside storage without passing a symlink; False (refused)."""
        try:
            inside.make_folders(self.storage, folder)
        except inside.Refused as e:
            self.refuse("write", str(e))
            return False
        return True

    def remove(self, path: Path) -> None:
        """Delete one file of ours inside storage (a journal entry); never via a link."""
        try:
            inside.remove_file(self.storage, path)
        except inside.Refused as e:
            self.refuse("delete", str(e))
        except OSError as e:
            self._unremoved("delete", path, e)

    def prune(self) -> None:
        """Delete the oldest files until within max_files and max_mb."""
        while True:
            with self._lock:
                if not self._files or (
                    len(self._files) <= self.max_files and self._bytes <= self.max_bytes
                ):
                    return
                path, size = self._files.popleft()
                self._bytes -= size
            try:
                inside.remove_file(self.storage, path)
                self.counts["pruned"] += 1
                inside.remove_empty_folder(self.storage, path.parent)
            except inside.Refused as e:
                self.refuse("prune", str(e))
            except OSError as e:
                self._unremoved("prune", path, e)

    def _unremoved(self, what: str, path: Path, e: OSError) -> None:
        """A deletion that failed: gone already is fine; anything else (a read-only or
        failing disk) is logged once per kind and errno, so the disk's trouble is seen."""
        if isinstance(e, FileNotFoundError):
            return
        key = f"{what}-{e.errno}"
        if key not in self._refusals_logged:
            self._refusals_logged.add(key)
            log.warning("archive: could not %s %s (%s)", what, path.name, e.strerror or e)

    def refuse(self, what: str, why: str) -> None:
        """Counted every time, logged once per kind: the archive never leaves storage."""
        self.counts["refused"] += 1
        if what not in self._refusals_logged:
            self._refusals_logged.add(what)
            log.warning(
                "archive: will not %s: %s; the archive stays inside %s and never follows "
                "symlinks (make it a real folder there)",
                what,
                why,
                self.storage,
            )

    def scan(self) -> None:
        """Index what earlier runs archived (oldest first); drop temp files a crash left.
        Files or days deleted meanwhile (a curator tidying up) are skipped."""
        errors: list[OSError] = []

        def scan(folder: Path, wanted: Callable[[str], bool], folders: bool) -> list[Any]:
            def other(path: Path, what: str) -> None:
                self.refuse("index or prune", f"{path} is {what}")

            return scan_folder(
                folder, wanted, errors.append, folders=folders, storage=self.storage, on_other=other
            )

        found: list[tuple[Path, int]] = []
        days = (
            scan(self.root, lambda n: bool(DAY.match(n)), True)
            if inside.is_inside(self.storage, self.root / "-")
            else []
        )
        for day in sorted(d.path for d in days):
            pngs = scan(day, lambda name: name.endswith(".png"), False)
            found += [(f.path, f.size) for f in sorted(pngs, key=lambda f: f.path.name)]
        if errors:
            log.warning(
                "archive: %d file(s) in %s could not be read while indexing (%s); "
                "they are left alone",
                len(errors),
                self.root,
                errors[0],
            )
        with self._lock:
            self._files = deque(found + list(self._files))
            self._bytes = sum(size for _, size in self._files)
        self.prune()
