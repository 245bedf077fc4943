"""The outcome cache: the instant answer for a throw whose picture was made before.

Dice outcomes are finite (36 for two dice), so their pictures can be kept. The key is a
SHA-256 over everything that shapes the pixels: the engine's description (model
fingerprint, library versions), the variation's seed, prompt, negative prompt, params,
painting index and that painting's content stamp. Faces, number and label are left out:
they do not change the pixels. So editing one die's variant re-keys only the outcomes
that use it; a new model or library version re-keys everything.

Memory holds an LRU of arrays within memory_mb. Disk holds one PNG per key (written
atomically, LRU by mtime, touched on every hit so the order survives a restart) within
disk_mb. Disk trouble is logged once, counted and survived: the cache keeps working in
memory and tries the disk again after retry_s. A file is checked before it is decoded
(a regular file, not a link; size bounded; PNG header of the show's exact size, RGB; its
cache-key text equal to its name) and decoded only then, so a planted giant or foreign
PNG costs a counter and one log line per kind, never memory; it is dropped (deleted when
it is a regular file inside storage) and the throw renders live. Deletions stay inside
storage and never follow links (storage/inside.py).
Until the engine is known (the worker's hello) every lookup misses: the cache never
answers for an engine it cannot vouch for.

The keys are made in keys.py; disk_io.DiskIO does the disk work for the kiosk in a
thread; cached_worker.CachedWorker puts the cache in front of the generation worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from installation.cache.entry_file import KEY_TEXT, Rejected, read_entry
from installation.cache.keys import VOLATILE, engine_stamp, entry_key
from installation.core.variations import RenderParams, Variation
from installation.storage.diskutil import DiskPause, scan_folder
from installation.storage.inside import Refused, is_inside, make_folders, remove_file
from installation.storage.png import as_rgb_array, save_png

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_KEYS = 65536  # remembered variation -> key pairs (~10 MB at most)
_HEX = frozenset("0123456789abcdef")
COUNTS = (  # what stats() reports, each from 0
    "hits",
    "memory_hits",
    "disk_hits",
    "misses",
    "puts",
    "disk_writes",
    "disk_errors",
    "corrupt",
    "evicted",
)


def _is_entry(name: str) -> bool:
    """A cache file's name: <32 hex digits>.png."""
    return name.endswith(".png") and len(name) == 36 and set(name[:32]) <= _HEX


class OutcomeCache:
    """Images by variation: memory LRU, then disk PNGs. Thread-safe; never raises on disk."""

    def __init__(
        self,
        dir: Path,
        *,
        memory_mb: int,
        disk_mb: int,
        engine_info: Mapping[str, object],
        painting_stamp: str | Sequence[str],
        retry_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        storage: Path | None = None,
    ) -> None:
        self.dir = Path(dir)
        self.storage = Path(storage) if storage is not None else self.dir.parent
        self.memory_budget, self.disk_budget = max(0, memory_mb) * MB, max(0, disk_mb) * MB
        stamps = [painting_stamp] if isinstance(painting_stamp, str) else list(painting_stamp)
        self._paintings = tuple(stamps) or ("",)
        self.retry_s, self.clock = retry_s, clock
        self._lock = threading.RLock()
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_bytes = self._disk_bytes = 0
        self._disk: OrderedDict[str, int] = OrderedDict()  # key -> bytes, least recent first
        self._pause = DiskPause(retry_s, clock)
        self.counts = dict.fromkeys(COUNTS, 0)
        self.rejected: dict[str, int] = {}  # files dropped unread, by kind (counts: corrupt)
        self.engine = ""
        self.engine_name = ""
        self.engine_info: dict[str, str] = {}  # what made the cached images (for the archive)
        # variation -> key for the engine bound now (a key is a hash: ~40 us, and a throw's
        # re-plan asks for every outcome's); cleared with the engine, bounded
        self._keys: dict[Variation, str] = {}
        self.set_engine(engine_info)
        self._scan()

    def __repr__(self) -> str:
        s = self.stats()
        return (
            f"<OutcomeCache {self.dir} memory={s['memory_entries']} disk={s['disk_entries']} "
            f"hits={s['hits']} misses={s['misses']} engine={self.engine_name or 'unknown'}>"
        )

    # -- keys -------------------------------------------------------------------------
    def set_engine(self, info: Mapping[str, object]) -> bool:
        """Bind to the engine that renders (its describe()); True if that changed the keys."""
        stamp = engine_stamp(info)
        with self._lock:
            if stamp == self.engine:
                return False
            self.engine, self.engine_name = stamp, str(info.get("engine", "")) if stamp else ""
            self._keys = {}
            self.engine_info = {
                str(k): str(v) for k, v in info.items() if stamp and str(k) not in VOLATILE
            }
            self._memory.clear()  # old keys can never hit again; free the budget
            self._memory_bytes = 0
        return True

    @property
    def engine_known(self) -> bool:
        return bool(self.engine)

    def key(self, variation: Variation) -> str | None:
        """The variation's cache key, or None while the engine is unknown."""
        if not self.engine:
            return None
        keys = self._keys  # replaced (not cleared) by set_engine: a racing reader is safe
        key = keys.get(variation)
        if key is None:
            key = entry_key(variation, self.engine, self._paintings)
            if len(keys) >= MAX_KEYS:
                keys.clear()
            keys[variation] = key
        return key

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.png"

    # -- lookups ----------------------------------------------------------------------
    def get(self, variation: Variation, *, disk: bool = True) -> np.ndarray | None:
        """The cached image (read-only array) or None. disk=False: memory only, never blocks."""
        key = self.key(variation)
        image = self._from_memory(key) if key else None
        if image is None and key and disk and self.on_disk(variation):
            image = self._read(key, variation.params)
            if image is not None:
                self.counts["disk_hits"] += 1
                self._remember(key, image)
                with self._lock, contextlib.suppress(KeyError):
                    self._disk.move_to_end(key)
                with contextlib.suppress(OSError):
                    os.utime(self.path(key))  # LRU order that survives a restart
        if image is None:
            self.counts["misses"] += 1
            return None
        self.counts["hits"] += 1
        return image

    def peek(self, variation: Variation, *, count: bool = True) -> np.ndarray | None:
        """Memory only, never blocks. A miss counts only if the disk cannot answer either;
        count=False: a look-ahead (pre-painting slides), not a throw, counts nothing."""
        key = self.key(variation)
        image = self._from_memory(key) if key else None
        if not count:
            return image
        if image is not None:
            self.counts["hits"] += 1
        elif not self.on_disk(variation):
            self.counts["misses"] += 1
        return image

    def contains(self, variation: Variation) -> bool:
        key = self.key(variation)
        with self._lock:
            return key is not None and (key in self._memory or key in self._disk)

    def on_disk(self, variation: Variation) -> bool:
        key = self.key(variation)
        with self._lock:
            return key is not None and key in self._disk

    def _from_memory(self, key: str) -> np.ndarray | None:
        with self._lock:
            image = self._memory.get(key)
            if image is not None:
                self._memory.move_to_end(key)
                self.counts["memory_hits"] += 1
                with contextlib.suppress(KeyError):
                    self._disk.move_to_end(key)
            return image

    def _read(self, key: str, params: RenderParams) -> np.ndarray | None:
        """The PNG for key, checked before decoding (cache/entry_file.py), or None."""
        try:
            return read_entry(self.path(key), key, params)
        except FileNotFoundError:
            self._forget(key)
        except Rejected as e:
            self._reject(key, e.kind, e.detail)
        except OSError as e:
            self._disk_trouble("read", e)
        return None

    def _reject(self, key: str, kind: str, detail: str) -> None:
        """Drop a file that failed a check: counted, logged once per kind, deleted when it
        is a regular file inside storage (a link or a FIFO is only dropped from the index)."""
        with self._lock:
            self.counts["corrupt"] += 1
            first = kind not in self.rejected
            self.rejected[kind] = self.rejected.get(kind, 0) + 1
        if first:
            log.warning(
                "cache: %s rejected (%s: %s); dropped, the throw renders live "
                "(further files of this kind are only counted)",
                self.path(key).name,
                kind,
                detail,
            )
        self._forget(key, unlink=True)
        return None

    # -- storing ----------------------------------------------------------------------
    def put(self, variation: Variation, image: np.ndarray, *, disk: bool = True) -> bool:
        """Keep an engine's image (memory now; disk unless disk=False). False if not kept."""
        key = self.key(variation)
        p = variation.params
        w, h = p.output_size()
        if as_rgb_array(image).shape != (h, w, 3):
            raise ValueError(f"image of shape {image.shape} does not fit {w}x{h}")
        if key is None:
            return False
        self.counts["puts"] += 1
        view = image.view()
        view.flags.writeable = False
        self._remember(key, view)
        return self.write(variation, view) if disk else True

    def write(self, variation: Variation, image: np.ndarray) -> bool:
        """Write the PNG atomically and evict the least recent files over budget."""
        key = self.key(variation)
        if key is None or not self._disk_usable():
            return False
        path = self.path(key)
        text = {KEY_TEXT: key, "faces": variation.key, "seed": str(variation.seed)}
        text |= {"prompt": variation.prompt, "engine": self.engine_name}
        try:
            make_folders(self.storage, self.dir)  # never via a link (Refused: an OSError)
            save_png(image, path, text)
            size = path.stat().st_size
        except OSError as e:
            self._disk_trouble("write", e)
            return False
        if self._pause.worked():
            log.info("cache: writing to %s again", self.dir)
        with self._lock:
            self._disk_bytes += size - self._disk.pop(key, 0)
            self._disk[key] = size
            self.counts["disk_writes"] += 1
            victims = self._over_budget()
            kept = key in self._disk
        self._unlink(victims)  # outside the lock: a slow disk must not stall lookups
        return kept

    def _remember(self, key: str, image: np.ndarray) -> None:
        if image.nbytes > self.memory_budget:
            return
        with self._lock:
            old = self._memory.pop(key, None)
            self._memory_bytes += image.nbytes - (old.nbytes if old is not None else 0)
            self._memory[key] = image
            while self._memory_bytes > self.memory_budget:
                self._memory_bytes -= self._memory.popitem(last=False)[1].nbytes

    def _over_budget(self) -> list[str]:
        """Drop the least recent disk entries over budget from the index (hold the lock);
        the caller deletes their files after letting go of it.

        Only one thread writes (DiskIO, or the prerender command), so a victim cannot be
        written again between choosing it and deleting its file."""
        victims = []
        while self._disk and self._disk_bytes > self.disk_budget:
            key, size = self._disk.popitem(last=False)
            self._disk_bytes -= size
            self.counts["evicted"] += 1
            victims.append(key)
        return victims

    def discard(self, variation: Variation) -> None:
        """Drop one variation everywhere (fresh mode: a thrown variation never comes back,
        so keeping it would only fill the budget). Deletes its file: call off the frame."""
        key = self.key(variation)
        if key is None:
            return
        with self._lock:
            old = self._memory.pop(key, None)
            if old is not None:
                self._memory_bytes -= old.nbytes
        self._forget(key, unlink=True)

    def _unlink(self, keys: Sequence[str]) -> None:
        for key in keys:
            try:
                remove_file(self.storage, self.path(key))
            except Refused as e:
                with self._lock:
                    first = "refused" not in self.rejected
                    self.rejected["refused"] = self.rejected.get("refused", 0) + 1
                if first:
                    log.warning("cache: will not delete %s (only counted from now on)", e)
            except OSError:
                pass

    def _forget(self, key: str, unlink: bool = False) -> None:
        with self._lock:
            self._disk_bytes -= self._disk.pop(key, 0)
        if unlink:
            self._unlink([key])

    # -- disk health ------------------------------------------------------------------
    def _disk_usable(self) -> bool:
        return self.disk_budget > 0 and self._pause.usable()

    def _disk_trouble(self, what: str, e: OSError) -> None:
        """Count it, log it once per kind, and rest the disk for retry_s."""
        self.counts["disk_errors"] += 1
        if self._pause.trouble(f"{what}:{e.errno}"):
            log.error(
                "cache: cannot %s in %s (%s); going on in memory, retrying every %g s",
                what,
                self.dir,
                e,
                self.retry_s,
            )

    def _scan(self) -> None:
        """Index the PNGs already on disk (oldest first); remove temp files a crash left."""
        found: list[Any] = []
        if is_inside(self.storage, self.path("-")):
            found = scan_folder(
                self.dir, _is_entry, lambda e: self._disk_trouble("read", e), storage=self.storage
            )
        elif self.dir.exists():
            log.warning(
                "cache: %s is a symlink or not a real folder inside %s; the disk cache is "
                "not used (make it a real folder)",
                self.dir,
                self.storage,
            )
        with self._lock:
            for f in sorted(found, key=lambda f: (f.mtime, f.path.name)):
                self._disk[f.path.name[:32]] = f.size
                self._disk_bytes += f.size
            victims = self._over_budget()
        self._unlink(victims)

    # -- for the status and the prefill budget -----------------------------------------
    def capacity(self, params: RenderParams) -> int:
        """How many images of this size fit (disk if usable, else memory)."""
        w, h = params.output_size()
        raw = w * h * 3
        with self._lock:
            each = self._disk_bytes // len(self._disk) if len(self._disk) >= 4 else raw
        disk = self.disk_budget // max(1, each) if self._disk_usable() else 0
        return max(disk, self.memory_budget // raw)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            budget = self.disk_budget or self.memory_budget
            used = self._disk_bytes if self.disk_budget else self._memory_bytes
            return {
                **self.counts,
                "entries": len(self._disk.keys() | self._memory.keys()),
                "memory_entries": len(self._memory),
                "memory_bytes": self._memory_bytes,
                "disk_entries": len(self._disk),
                "disk_bytes": self._disk_bytes,
                "fill": round(used / budget, 3) if budget else 0.0,
                "engine": self.engine_name or "unknown",
                "disk_paused": self._pause.paused,
                "rejected": dict(self.rejected),
            }
