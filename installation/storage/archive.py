"""The archive: every variation shown on the wall, kept as a PNG with its story.

Each image goes to <storage>/archive/YYYY-MM-DD/HHMMSS-<number>-<key>.png (local time)
with text chunks naming the faces, seed, prompts, model and fingerprint, params, engine,
library versions, time, number and show, so a curator can say what made any picture.
Results are only approximately reproducible across GPUs and library versions: archive
the image, do not count on regenerating it.

The display loop hands the array over and returns at once; a daemon thread writes it
atomically (temp file + rename: no half-written PNG is ever visible). The queue is
bounded: when it backs up, images are dropped and counted, never waited for. A full
disk pauses archiving (logged once), the show goes on, and writing is retried after
retry_s. The oldest files are pruned first to stay within max_files and max_mb.
Pruning and writing stay inside the storage folder and never pass a symlink
(storage/inside.py): a day folder linked elsewhere is left alone, never emptied.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.variations import Variation
from installation.storage import inside
from installation.storage.archive_entries import ArchiveEntry, metadata, read_entry
from installation.storage.diskutil import DiskPause, scan_folder
from installation.storage.png import save_png

log = logging.getLogger(__name__)

MB = 1024 * 1024
FULL = (errno.ENOSPC, errno.EDQUOT)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNSAFE = re.compile(r"[^0-9A-Za-z-]")


class Archive:
    """Saves shown variations in a background thread; bounded, pruned, never blocking."""

    def __init__(
        self,
        root: Path,
        *,
        show_name: str,
        max_files: int,
        max_mb: int,
        enabled: bool = True,
        queue_size: int = 8,
        retry_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        storage: Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.storage = Path(storage) if storage is not None else self.root.parent
        self.show_name, self.enabled = show_name, enabled
        self.max_files, self.max_bytes = max(1, max_files), max(1, max_mb) * MB
        self.retry_s, self.clock, self.wall = retry_s, clock, wall
        self._q: queue.Queue[tuple[np.ndarray, Variation, str, dict[str, str], float] | None]
        self._q = queue.Queue(maxsize=max(1, queue_size))
        self._lock = threading.Lock()
        self._files: deque[tuple[Path, int]] = deque()  # oldest first
        self._bytes = 0
        self._pause = DiskPause(retry_s, clock)
        self._thread: threading.Thread | None = None
        self.counts = dict.fromkeys(
            ("saved", "dropped", "skipped_paused", "errors", "pruned", "disk_full", "refused"), 0
        )
        self._refusals_logged: set[str] = set()

    def __repr__(self) -> str:
        state = "paused" if self._pause.paused else "on" if self.enabled else "off"
        return (
            f"<Archive {self.root} {state} files={len(self._files)} saved={self.counts['saved']}>"
        )

    def start(self) -> None:
        """Nothing to do: the writer thread starts with the first save."""

    # -- the display loop's side --------------------------------------------------------
    def save(
        self,
        image: np.ndarray,
        variation: Variation,
        *,
        engine: str = "",
        describe: Mapping[str, object] | None = None,
    ) -> bool:
        """Queue one shown image (do not modify it afterwards). Never blocks; False if not."""
        if not self.enabled:
            return False
        if not self._pause.usable():
            self.counts["skipped_paused"] += 1
            return False
        self._ensure_thread()
        item = (image, variation, engine, {str(k): str(v) for k, v in (describe or {}).items()})
        try:
            self._q.put_nowait((*item, self.wall()))
        except queue.Full:
            self.counts["dropped"] += 1
            return False
        return True

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until queued images are written (tests, shutdown). True if the queue drained."""
        deadline = time.monotonic() + timeout_s
        with self._q.all_tasks_done:
            while self._q.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._q.all_tasks_done.wait(left)
        return True

    def stop(self, timeout_s: float = 2.0) -> None:
        """Write what is queued (up to timeout_s), then end the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self.flush(timeout_s)
            with contextlib.suppress(queue.Full):
                self._q.put_nowait(None)
            thread.join(timeout_s)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            files, size = len(self._files), self._bytes
        return {
            **self.counts,
            "enabled": self.enabled,
            "files": files,
            "bytes": size,
            "paused": self._pause.paused,
            "queued": self._q.qsize(),
        }

    # -- the writer thread --------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="archive", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._scan()
        except Exception:
            log.exception("archive: could not index %s; pruning starts from new files", self.root)
        while True:
            item = self._q.get()
            try:
                if item is None:
                    return
                self._write(*item)
            except Exception:  # a bug must not end the thread: the next image may work
                self.counts["errors"] += 1
                log.exception("archive: could not save an image")
            finally:
                self._q.task_done()

    def _write(
        self, image: np.ndarray, v: Variation, engine: str, describe: dict[str, str], when: float
    ) -> None:
        if not self._pause.usable():
            self.counts["skipped_paused"] += 1
            return
        path = self._path(v, when)
        text = metadata(v, show=self.show_name, engine=engine, describe=describe, when=when)
        try:
            inside.make_folders(self.storage, path.parent)
            save_png(image, path, text)
            size = path.stat().st_size
        except inside.Refused as e:
            self._refuse("write", str(e))
            return
        except OSError as e:
            self._trouble(e)
            return
        if self._pause.worked():
            log.info("archive: writing to %s again", self.root)
        self.counts["saved"] += 1
        with self._lock:
            self._files.append((path, size))
            self._bytes += size
        self._prune()

    def _path(self, v: Variation, when: float) -> Path:
        t = time.localtime(when)
        folder = self.root / time.strftime("%Y-%m-%d", t)
        stem = f"{time.strftime('%H%M%S', t)}-{v.number}-{_UNSAFE.sub('', v.key)}"
        path, n = folder / f"{stem}.png", 1
        while path.exists():  # same second, same outcome: keep both
            n += 1
            path = folder / f"{stem}-{n}.png"
        return path

    def _trouble(self, e: OSError) -> None:
        """Pause archiving for retry_s; log it once per pause, not once per image."""
        full = e.errno in FULL
        self.counts["disk_full" if full else "errors"] += 1
        if self._pause.trouble("disk"):  # one kind: logged once until the disk works again
            why = "the disk is full" if full else f"cannot write ({e})"
            log.error(
                "archive: %s at %s; archiving paused, retrying in %g s; the show goes on",
                why,
                self.root,
                self.retry_s,
            )

    def _prune(self) -> None:
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
                self._refuse("prune", str(e))
            except OSError:
                pass

    def _refuse(self, what: str, why: str) -> None:
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

    def _scan(self) -> None:
        """Index what earlier runs archived (oldest first); drop temp files a crash left.
        Files or days deleted meanwhile (a curator tidying up) are skipped."""
        errors: list[OSError] = []

        def scan(folder: Path, wanted: Callable[[str], bool], folders: bool) -> list[Any]:
            def other(path: Path, what: str) -> None:
                self._refuse("index or prune", f"{path} is {what}")

            return scan_folder(
                folder, wanted, errors.append, folders=folders, storage=self.storage, on_other=other
            )

        found: list[tuple[Path, int]] = []
        days = (
            scan(self.root, lambda n: bool(_DAY.match(n)), True)
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
        self._prune()

    # -- reading back (curator tools) -----------------------------------------------------
    def list(
        self, day: str | date | None = None, faces: str | tuple[int, ...] | None = None
    ) -> list[ArchiveEntry]:
        """Archived images, oldest first, optionally of one day and one outcome."""
        day_name = day.isoformat() if isinstance(day, date) else day
        if day_name is not None and not _DAY.match(day_name):
            raise ValueError(f"day must be YYYY-MM-DD, got {day_name!r}")
        key = faces if isinstance(faces, str) or faces is None else "-".join(map(str, faces))
        if not self.root.is_dir():
            return []
        folders = [self.root / day_name] if day_name else sorted(self.root.iterdir())
        out = []
        for folder in folders:
            if not _DAY.match(folder.name) or not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.png")):
                entry = read_entry(path)
                if entry is not None and (key is None or entry.key == key):
                    out.append(entry)
        return out


def archive_for(show: Any) -> Archive:
    """The show's archive: <storage>/archive with the [archive] section's limits."""
    a = show.archive
    return Archive(
        show.storage_dir / "archive",
        show_name=show.show.name,
        max_files=a.max_files,
        max_mb=a.max_mb,
        enabled=a.enabled,
        storage=show.storage_dir,
    )
