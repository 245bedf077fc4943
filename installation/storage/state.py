"""Small persistent state (the fresh-mode throw count), written atomically.

A power cut may come at any moment: every write goes through atomic.write_atomic,
so the file is always either the old or the new value.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from installation.storage.atomic import write_atomic

log = logging.getLogger(__name__)
T = TypeVar("T")


class StateStore:
    """A JSON dict on disk. Unreadable state is logged and treated as empty, never fatal."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.error("state file %s is unreadable (%s); starting from empty state", self.path, e)
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        write_atomic(self.path, json.dumps(data, sort_keys=True, indent=1).encode("utf-8"))

    def counts(self) -> tuple[int, dict[str, int]]:
        """Fresh mode: the show's throw count and how often each outcome was thrown."""
        data = self.load()
        count = data.get("throw_count", 0)
        repeats = data.get("outcome_repeats", {})
        if not isinstance(count, int) or count < 0:
            count = 0
        if not isinstance(repeats, dict):
            repeats = {}
        clean = {str(k): v for k, v in repeats.items() if isinstance(v, int) and v >= 0}
        return count, clean

    def save_counts(self, count: int, repeats: dict[str, int]) -> None:
        data = self.load()
        data["throw_count"] = count
        data["outcome_repeats"] = repeats
        self.save(data)


class LatestWriter(Generic[T]):
    """One daemon thread that writes only the newest pending item (status snapshots, the
    fresh-mode count): the frame loop hands over and returns; the disk never holds it."""

    def __init__(self, write: Callable[[T], None], name: str) -> None:
        self._write = write
        self._cond = threading.Condition()
        self._pending: tuple[T] | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> None:
        with self._cond:
            self._pending = (item,)  # a newer item replaces an unwritten one
            self._cond.notify()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop after the pending write, if any."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stopping:
                    self._cond.wait()
                pending, self._pending = self._pending, None
            if pending is None:
                return
            self._write(pending[0])


class CountWriter:
    """Fresh mode's count and repeats, written off the frame thread.

    The app shows a fresh variation only once `settled` covers its count, so whatever
    reached the wall is on disk first: a power cut never replays it. A failed write
    (full disk) is reported through `take_errors`, retried every RETRY_S until it
    succeeds or a newer count replaces it, and still settles: the show goes on with the
    count in memory (a power cut before the retry succeeds can then replay)."""

    RETRY_S = 5.0

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.settled = 0
        self._errors: list[str] = []
        self._lock = threading.Lock()
        self._latest = 0
        self._stopped = False
        self._writer: LatestWriter[tuple[int, dict[str, int]]] = LatestWriter(
            self._save, "count-writer"
        )

    def submit(self, count: int, repeats: dict[str, int]) -> None:
        with self._lock:
            self._latest = count
        self._writer.submit((count, dict(repeats)))

    def _retry(self, item: tuple[int, dict[str, int]]) -> None:
        with self._lock:
            current = item[0] == self._latest and not self._stopped
        if current:
            self._writer.submit(item)

    def take_errors(self) -> list[str]:
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    def stop(self, timeout: float = 2.0) -> None:
        with self._lock:
            self._stopped = True
        self._writer.stop(timeout)

    def _save(self, item: tuple[int, dict[str, int]]) -> None:
        count, repeats = item
        try:
            self.store.save_counts(count, repeats)
        except OSError as e:
            with self._lock:
                self._errors.append(
                    f"could not save the throw count {count}: {e}; retrying in {self.RETRY_S:g} s"
                )
            retry = threading.Timer(self.RETRY_S, self._retry, args=(item,))
            retry.daemon = True
            retry.start()
        with self._lock:
            self.settled = max(self.settled, count)
