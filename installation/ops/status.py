"""The running kiosk's status: one thread-safe board, a JSON file, a human summary.

Edges and the main loop report into a StatusBoard; `snapshot()` is the JSON-ready
dict that the status file holds and that /installation/status returns over OSC.
The file is written atomically (temp file, fsync, os.replace) so a reader never
sees half a file, and from a background thread so the display loop never waits
on the disk.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from installation.ops.status_text import STALE_AFTER_S as STALE_AFTER_S
from installation.ops.status_text import format_status as format_status
from installation.ops.status_text import read_status as read_status
from installation.ops.status_text import status_age as status_age
from installation.storage.state import LatestWriter

log = logging.getLogger(__name__)

SCHEMA = 1
WRITE_EVERY_S = 1.0
LATENCY_WINDOW = 100
ERROR_WINDOW = 20
MAX_KINDS = 64
# throw->screen histogram bounds in ms (cumulative counts since start; /metrics reads them)
LATENCY_BUCKETS_MS = (50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0)


def _jsonable(value: object) -> Any:
    """A deep, JSON-safe copy: later changes by the caller cannot leak in."""
    return json.loads(json.dumps(value, default=str))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class StatusBoard:
    """Holds what the kiosk is doing. Every method is safe from any thread."""

    def __init__(
        self,
        show: str = "",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._clock, self._wall = clock, wall
        self._started = clock()
        self._started_wall = wall()
        self.show = show
        self.state = "starting"
        self.engine = ""
        self.frames = 0
        self.fps = 0.0
        self._fps_window: tuple[float, int] = (self._started, 0)
        self._latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._buckets = [0] * (len(LATENCY_BUCKETS_MS) + 1)  # the last one is +Inf
        self._latency_sum = 0.0
        self.throws = self.variations = 0
        self._last_throw: dict[str, Any] | None = None
        self._last_variation: dict[str, Any] | None = None
        self._sections: dict[str, Any] = {}
        self._faults: Counter[str] = Counter()
        self._errors: deque[dict[str, Any]] = deque(maxlen=ERROR_WINDOW)
        self._last_by_kind: dict[str, dict[str, Any]] = {}  # oldest kind first
        self._write_failing: int | str | None = None  # the errno of a failing status write
        self._last_write: float | None = None
        self._writer: LatestWriter[tuple[Path, dict[str, Any]]] | None = None

    def __repr__(self) -> str:
        return f"<StatusBoard {self.state} engine={self.engine or '?'} frames={self.frames}>"

    # -- reporting ------------------------------------------------------------------
    def set_state(self, state: str) -> None:
        with self._lock:
            self.state = str(state)

    def set_engine(self, name: str) -> None:
        with self._lock:
            self.engine = str(name)

    def frame(self, now: float | None = None) -> None:
        """Count one presented frame; fps is measured over windows of about 1 s."""
        now = self._clock() if now is None else now
        with self._lock:
            self.frames += 1
            start, count = self._fps_window
            count += 1
            if now - start >= 1.0:
                self.fps = round(count / (now - start), 1)
                self._fps_window = (now, 0)
            else:
                self._fps_window = (start, count)

    def record_latency(self, ms: float) -> None:
        """Throw-to-screen latency of one throw, in milliseconds."""
        if math.isfinite(ms) and ms >= 0:
            with self._lock:
                self._latencies.append(float(ms))
                self._latency_sum += ms
                i = next((i for i, b in enumerate(LATENCY_BUCKETS_MS) if ms <= b), -1)
                self._buckets[i] += 1

    def record_throw(self, faces: Sequence[int], source: str) -> None:
        with self._lock:
            self._last_throw = {"faces": list(faces), "source": source, "at": self._wall()}
            self.throws += 1

    def record_variation(self, **info: object) -> None:
        """The variation now on the wall: number, seed, key, engine, cached ..."""
        with self._lock:
            self._last_variation = {**_jsonable(info), "at": self._wall()}
            self.variations += 1

    def set_section(self, name: str, info: Mapping[str, object]) -> None:
        """Replace one edge's section ('dice', 'worker', 'cache', 'archive' ...)."""
        with self._lock:
            self._sections[name] = _jsonable(dict(info))

    def count(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def error(self, kind: str, message: str) -> None:
        """Remember one error and count it under its kind. The last ERROR_WINDOW errors are
        kept, and besides them the last one of every kind (up to MAX_KINDS kinds), so a
        flood of one fault never hides that the dice were unplugged an hour ago."""
        kind = str(kind)[:64]
        entry: dict[str, Any] = {"at": self._wall(), "kind": kind, "message": str(message)[:500]}
        with self._lock:
            self._faults[kind] += 1
            self._errors.append(entry)
            self._last_by_kind.pop(kind, None)
            self._last_by_kind[kind] = entry
            while len(self._last_by_kind) > MAX_KINDS:
                self._last_by_kind.pop(next(iter(self._last_by_kind)))

    # -- reading --------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything as plain JSON-ready data (also the OSC status reply)."""
        with self._lock:
            lat = list(self._latencies)
            return {
                "schema": SCHEMA,
                "show": self.show,
                "pid": os.getpid(),
                "state": self.state,
                "engine": self.engine,
                "written_at": self._wall(),
                "started_at": self._started_wall,
                "uptime_s": round(self._clock() - self._started, 1),
                "frames": self.frames,
                "fps": self.fps,
                "latency_ms": {
                    "count": len(lat),
                    "last": lat[-1] if lat else None,
                    "p50": percentile(lat, 50),
                    "p95": percentile(lat, 95),
                    "histogram": {
                        "le": [*LATENCY_BUCKETS_MS, "+Inf"],
                        "counts": list(self._buckets),
                        "sum": round(self._latency_sum, 3),
                    },
                },
                "counts": {"throws": self.throws, "variations": self.variations},
                "last_throw": dict(self._last_throw) if self._last_throw else None,
                "last_variation": dict(self._last_variation) if self._last_variation else None,
                "sections": _jsonable(self._sections),
                "faults": dict(sorted(self._faults.items())),
                "errors": [dict(e) for e in self._errors],
                "last_error_by_kind": {k: dict(e) for k, e in self._last_by_kind.items()},
            }

    # -- the status file ------------------------------------------------------------
    def write(self, path: Path) -> None:
        """Write the snapshot now, atomically. Raises OSError (disk full, permissions)."""
        write_json_atomic(path, self.snapshot())

    def maybe_write(self, path: Path, now: float, *, wait: bool = False) -> bool:
        """Write at most every WRITE_EVERY_S; True when a write was started.

        By default the write happens on a background thread so the caller (the
        display loop) never waits for the disk; failures are counted as
        'status_write' faults, never raised."""
        with self._lock:
            if self._last_write is not None and now - self._last_write < WRITE_EVERY_S:
                return False
            self._last_write = now
        snapshot = self.snapshot()
        if wait:
            self._write_quietly(path, snapshot)
        else:
            if self._writer is None:
                self._writer = LatestWriter(
                    lambda item: self._write_quietly(*item), "status-writer"
                )
            self._writer.submit((path, snapshot))
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Stop the background writer after its last pending write."""
        if self._writer is not None:
            self._writer.stop(timeout)
            self._writer = None

    def _write_quietly(self, path: Path, snapshot: dict[str, Any]) -> None:
        """Written, or counted; logged once per kind of failure (the errno, never the
        message, which names a random temp file) and once when it works again."""
        try:
            write_json_atomic(path, snapshot)
        except OSError as e:
            self.count("status_write")
            kind = e.errno or type(e).__name__
            if kind != self._write_failing:
                self._write_failing = kind
                why = e.strerror or type(e).__name__
                log.warning("status file %s not written: %s (logged once until it is)", path, why)
            return
        if self._write_failing is not None:
            self._write_failing = None
            log.info("status file %s written again", path)


def write_json_atomic(path: Path, data: object) -> None:
    """Temp file in the same folder, fsync, os.replace: readers see old or new, never half."""
    from installation.storage.atomic import write_atomic

    text = json.dumps(data, indent=1, default=str) + "\n"
    write_atomic(Path(path), text.encode("utf-8"))
