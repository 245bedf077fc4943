"""The archive: every variation shown on the wall, kept as a PNG with its story.

Each image goes to <storage>/archive/YYYY-MM-DD/HHMMSS-<number>-<key>.png (local time)
with text chunks naming the faces, seed, prompts, model and fingerprint, params, engine,
library versions, time, number and show, so a curator can say what made any picture.
Results are only approximately reproducible across GPUs and library versions: archive
the image, do not count on regenerating it.

The display loop hands the array over and returns at once with a Saved ticket. One
daemon thread writes the picture into the journal (<archive>/.journal/, journal.py:
raw pixels, fsync) and settles the ticket: the presenter puts the picture up once it
is settled, so a kill -9 or a power cut never loses a shown picture; the next start
archives what the journal still holds. A second thread makes the PNG from each entry
atomically (temp file + rename: no half-written PNG is ever visible), then deletes
the entry. What is taken is bounded: when the archive backs up, images are dropped
and counted, never waited for. A full disk pauses archiving (logged once), the show
goes on, and writing is retried after retry_s. The oldest files are pruned first to
stay within max_files and max_mb (archive_index.py), inside the storage folder and never
through a symlink: a day folder linked elsewhere is left alone, never emptied.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.variations import Variation
from installation.storage.archive_index import ArchiveIndex
from installation.storage.archive_meta import (
    ArchiveEntry,
    list_archive,
    metadata,
    png_path,
)
from installation.storage.diskutil import DiskPause
from installation.storage.journal import (
    LINKED,
    SUFFIX,
    Saved,
    Taken,
    entry_name,
    pending_entries,
    read_entry,
    write_entry,
)
from installation.storage.png import save_png
from installation.storage.spares import Spares

log = logging.getLogger(__name__)

MB = 1024 * 1024
FULL = (errno.ENOSPC, errno.EDQUOT)
JOURNAL = ".journal"  # inside the archive folder; never listed as a day
SPARE_AFTER_S = 0.05  # the journal makes a spare file after this long without a picture


class Archive:
    """Saves shown variations through the journal, in two background threads; bounded,
    pruned, never blocking the caller (see the module's docstring and journal.py)."""

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
        wake: threading.Event | None = None,
    ) -> None:
        self.root = Path(root)
        self.wake = wake  # set when a ticket settles: the frame loop puts the picture up now
        self.storage = Path(storage) if storage is not None else self.root.parent
        self.journal_dir = self.root / JOURNAL
        self.show_name, self.enabled = show_name, enabled
        self.max_files, self.max_bytes = max(1, max_files), max(1, max_mb) * MB
        self.queue_size = max(1, queue_size)
        self.retry_s, self.clock, self.wall = retry_s, clock, wall
        self._q: queue.SimpleQueue[Taken | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._todo: deque[Path] = deque()  # journal entries to make PNGs of, oldest first
        self._pending = 0  # saves taken and not yet archived (or failed)
        self._busy = False  # the PNG thread holds an entry
        self._stopping = False
        self._seq = 0
        self._pause = DiskPause(retry_s, clock)
        self._threads: list[threading.Thread] = []
        self._indexed = threading.Event()  # leftovers listed: new entries may be written
        self.counts = dict.fromkeys(
            ("saved", "dropped", "skipped_paused", "errors", "pruned", "disk_full", "recovered"),
            0,
        )
        self.index = ArchiveIndex(
            self.root,
            self.storage,
            max_files=self.max_files,
            max_bytes=self.max_bytes,
            counts=self.counts,
            lock=self._lock,
        )
        self._spares = Spares(self.journal_dir, self.index.remove)  # the journal thread's

    def __repr__(self) -> str:
        state = "paused" if self._pause.paused else "on" if self.enabled else "off"
        return f"<Archive {self.root} {state} files={len(self.index)} saved={self.counts['saved']}>"

    def start(self) -> None:
        """Start the threads: what an earlier run journalled but never archived goes first."""
        if self.enabled:
            self._ensure_threads()

    # -- the display loop's side --------------------------------------------------------
    def save(
        self,
        image: np.ndarray,
        variation: Variation,
        *,
        engine: str = "",
        describe: Mapping[str, object] | None = None,
        source: Path | None = None,
    ) -> Saved:
        """Take one shown image (do not modify it afterwards). Never blocks. The ticket is
        false when the image was not taken; `settled` once it is journalled on disk.
        `source`: a PNG of exactly these pixels already safe on disk (a cache file), linked
        into the journal instead of writing the pixels (journal.py)."""
        if not self.enabled:
            return Saved(False, "the archive is off")
        if not self._pause.usable():
            self._count("skipped_paused")
            return Saved(False, "archiving is paused (disk trouble)")
        with self._lock:
            if self._pending > self.queue_size:  # one in hand and queue_size waiting
                self.counts["dropped"] += 1
                return Saved(False, "the archive is backed up")
            self._pending += 1
        self._ensure_threads()
        ticket = Saved(True)
        text = {str(k): str(v) for k, v in (describe or {}).items()}
        self._q.put(Taken(image, variation, engine, text, self.wall(), ticket, source))
        return ticket

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every image taken is archived (tests, shutdown). True if so."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (
                    (self._indexed.is_set() or not self._threads)
                    and not self._pending
                    and not self._todo
                    and not self._busy
                ),
                timeout_s,
            )

    def stop(self, timeout_s: float = 2.0) -> None:
        """Archive what is taken (up to timeout_s; the rest stays journalled for the next
        start), then end the threads."""
        threads, self._threads = self._threads, []
        if not threads:
            return
        self.flush(timeout_s)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._q.put(None)
        for thread in threads:
            thread.join(timeout_s)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            files, size = len(self.index), self.index.bytes
            waiting = self._pending + len(self._todo)
        return {
            **self.counts,
            "enabled": self.enabled,
            "files": files,
            "bytes": size,
            "paused": self._pause.paused,
            "queued": waiting,
            "journal_spares": {"used": self._spares.used, "missed": self._spares.missed},
        }

    # -- the journal thread: each taken image on disk, fast ---------------------------------
    def _ensure_threads(self) -> None:
        with self._lock:
            if self._threads or self._stopping:
                return
            self._threads = [
                threading.Thread(target=self._journal_run, name="archive-journal", daemon=True),
                threading.Thread(target=self._png_run, name="archive", daemon=True),
            ]
        for thread in self._threads:
            thread.start()

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def _journal_run(self) -> None:
        self._indexed.wait()
        spares = self._spares
        while True:
            try:  # idle a moment with spares short: make one (spares.py)
                item = self._q.get(timeout=SPARE_AFTER_S if spares.short() else None)
            except queue.Empty:
                spares.idle(
                    lambda: self._pause.usable() and self.index.make_folders(self.journal_dir)
                )
                continue
            if item is None:
                break
            try:
                path = self._journal(item)
            except Exception as e:  # a bug or a bad image: counted, the next one may work
                self._count("errors")
                log.exception("archive: could not journal variation %s", item.variation.number)
                path, item.ticket.error = None, f"{type(e).__name__}: {e}"
            item.ticket.settle(item.ticket.error)
            if self.wake is not None:
                self.wake.set()
            if path is not None:  # settled in its spare already: the name comes after
                path = spares.name(path, item.name)
            with self._cond:
                if path is None:
                    self._pending -= 1
                else:
                    self._todo.append(path)
                self._cond.notify_all()
        spares.close()

    def _journal(self, item: Taken) -> Path | None:
        if not self._pause.usable():
            self._count("skipped_paused")
            item.ticket.error = "archiving is paused (disk trouble)"
            return None
        v = item.variation
        text = metadata(
            v, show=self.show_name, engine=item.engine, describe=item.describe, when=item.when
        )
        self._seq += 1
        name = item.name = entry_name(item.when, self._seq)
        text["shown_id"] = name.removesuffix(SUFFIX)
        try:
            if not self.index.make_folders(self.journal_dir):
                item.ticket.error = "refused: the archive would leave storage"
                return None
            item.ticket.writing = True  # the frame loop may have its slide painted now
            if self.wake is not None:
                self.wake.set()
            return write_entry(
                self.journal_dir,
                name,
                item.image,
                text,
                when=item.when,
                source=item.source,
                spares=self._spares,
            )
        except OSError as e:
            self._trouble(e)
            item.ticket.error = f"not journalled: {e}"
            return None

    # -- the PNG thread: journal entries become archive files -------------------------------
    def _png_run(self) -> None:
        try:
            self.index.scan()
        except Exception:
            log.exception("archive: could not index %s; pruning starts from new files", self.root)
        left: list[Path] = []
        try:
            left = pending_entries(
                self.journal_dir, lambda e: self._count("errors"), self.index.remove
            )
        finally:
            with self._cond:  # new entries may be written now, after these
                self._todo.extendleft(reversed(left))
                self._indexed.set()
                self._cond.notify_all()
        recovered = set(left)
        if left:
            log.warning(
                "archive: %d shown picture(s) journalled but not archived by the last run; "
                "archiving them now",
                len(left),
            )
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._todo or self._stopping)
                if not self._todo:
                    return
                path, self._busy = self._todo[0], True
            done = self._archive_entry(path)
            with self._cond:
                self._busy = False
                if done:
                    self._todo.popleft()
                    if path in recovered:
                        self.counts["recovered"] += 1
                    else:
                        self._pending -= 1
                self._cond.notify_all()
                if not done:  # the disk is resting: try again when it is due
                    self._cond.wait(min(1.0, self.retry_s))

    def _archive_entry(self, path: Path) -> bool:
        """Make the PNG of one entry and delete the entry; False to try again later."""
        if not self._pause.usable():
            return False
        try:
            entry = read_entry(path)
        except FileNotFoundError:
            return True
        except (OSError, ValueError) as e:
            self._count("errors")
            log.error("archive: journal entry %s is unreadable (%s); deleted", path.name, e)
            self.index.remove(path)
            if os.path.lexists(linked := path.with_suffix(LINKED)):
                self.index.remove(linked)
            return True
        try:
            target = png_path(self.root, entry.when, entry.number, entry.key, entry.id)
            if target is not None and not self.index.make_folders(target.parent):
                for done in entry.files:  # refused (counted, logged): never written outside
                    self.index.remove(done)
                return True
            if target is not None:
                save_png(entry.image, target, entry.text)
                size = target.stat().st_size
            for done in entry.files:
                self.index.remove(done)
        except OSError as e:
            self._trouble(e)
            return False
        if self._pause.worked():
            log.info("archive: writing to %s again", self.root)
        if target is not None:
            with self._lock:
                self.counts["saved"] += 1
                self.index.add(target, size)
        self.index.prune()
        return True

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

    # -- reading back (curator tools) -----------------------------------------------------
    def list(
        self, day: str | date | None = None, faces: str | tuple[int, ...] | None = None
    ) -> list[ArchiveEntry]:
        """Archived images, oldest first, optionally of one day and one outcome."""
        return list_archive(self.root, day, faces)


def archive_for(show: Any, wake: threading.Event | None = None) -> Archive:
    """The show's archive: <storage>/archive with the [archive] section's limits; `wake`
    (the frame pacing's event) is set whenever a picture is safe in the journal."""
    a = show.archive
    return Archive(
        show.storage_dir / "archive",
        show_name=show.show.name,
        max_files=a.max_files,
        max_mb=a.max_mb,
        enabled=a.enabled,
        storage=show.storage_dir,
        wake=wake,
    )
