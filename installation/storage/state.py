"""Small persistent state (the fresh-mode throw count), written atomically, with a copy.

A power cut may come at any moment: every write goes through atomic.write_atomic, so
state.json is always either the old or the new value. Before each write the previous
good file is kept as state.json.prev (a hard link, renamed into place: at every step of
a save at least one of the two files parses). A damaged file, whatever its shape, is
reported loudly, set aside as state.json.damaged-<time> (never overwritten) and the
count goes on from the copy; only when both are damaged does the count start from 0.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from installation.storage.atomic import write_atomic
from installation.storage.bounded import MIB, Damage, loads_bounded, read_bounded, shown, size_text

log = logging.getLogger(__name__)
T = TypeVar("T")

# About 600,000 distinct outcomes thrown; a save rewrites the whole file, so a state
# this big would already slow every throw.
STATE_LIMIT = 16 * MIB
KEEP_DAMAGED = 5  # damaged files set aside, newest first; older ones are deleted
MAX_COUNT = 2**63 - 1
_OUTCOME = re.compile(r"[0-9]{1,4}(?:-[0-9]{1,4}){0,63}")


@dataclass(frozen=True)
class Counts:
    """Fresh mode's count and repeats as found on disk, and what was wrong, if anything
    (one line for the log and the status: the damage and what was done about it)."""

    count: int = 0
    repeats: dict[str, int] = field(default_factory=dict)
    problem: str | None = None


def parse_counts(raw: bytes) -> tuple[int, dict[str, int]]:
    """The count and repeats in a state file's bytes; Damage saying what is wrong."""
    data = loads_bounded(raw, max_depth=4, max_containers=8)  # a state file has 2
    if not isinstance(data, dict):
        raise Damage(f"holds {shown(data)}, not an object with throw_count and outcome_repeats")
    for key in ("throw_count", "outcome_repeats"):
        if key not in data:
            raise Damage(f"has no {key}")
    count, repeats = data["throw_count"], data["outcome_repeats"]
    if type(count) is not int or not 0 <= count <= MAX_COUNT:
        raise Damage(f"has throw_count {shown(count)}, not a whole number from 0")
    if not isinstance(repeats, dict):
        raise Damage(f"has outcome_repeats {shown(repeats)}, not an object")
    for outcome, n in repeats.items():
        if not _OUTCOME.fullmatch(outcome):
            raise Damage(f'has the outcome {shown(outcome)}, not faces like "3-5"')
        if type(n) is not int or not 0 <= n <= MAX_COUNT:
            raise Damage(f"has outcome_repeats[{outcome}] {shown(n)}, not a whole number from 0")
    return count, repeats


def encode_counts(count: int, repeats: dict[str, int]) -> bytes:
    data = {"throw_count": count, "outcome_repeats": repeats}
    return json.dumps(data, sort_keys=True, indent=1).encode("utf-8")


@dataclass(frozen=True)
class _Found:
    """One file as read: counts and bytes, or why not ('missing' or the damage)."""

    counts: tuple[int, dict[str, int]] | None
    raw: bytes = b""
    damage: str = ""  # empty with no counts: the file is missing


class StateStore:
    """state.json with its copy state.json.prev. Damage is never fatal and never silent.

    counts() only reads (the CLI's preview and prerender may run beside the kiosk);
    load_counts() is the kiosk's start: it also sets damaged files aside and restores
    state.json from the copy. save_counts() is called from one thread only."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.prev = self.path.with_name(self.path.name + ".prev")
        self._known: tuple[int, int, int] | None = None  # (inode, size, mtime) of a good file
        self._last = b""  # the bytes of that good file
        self._blocked: list[Path] = []  # damaged files not yet set aside: never overwrite

    def counts(self) -> tuple[int, dict[str, int]]:
        """Fresh mode: the show's throw count and how often each outcome was thrown."""
        found = self.load_counts(repair=False)
        return found.count, found.repeats

    def load_counts(self, repair: bool = True) -> Counts:
        """The counts on disk. A damaged or missing state.json is logged as one ERROR line
        (the file, the damage, what was done) and the count is taken from the copy; with
        `repair`, damaged files are set aside and state.json is restored from the copy."""
        current = self._read(self.path)
        if current.counts is not None:
            if repair:
                self._remember(current.raw)
            return Counts(*current.counts)
        copy = self._read(self.prev)
        if not current.damage and copy.counts is None and not copy.damage:
            return Counts()  # a new show: no count yet
        said = f"state file {self.path} {current.damage or 'is missing'}"
        if copy.counts is not None:
            count, repeats = copy.counts
            steps, moved = [said], True
            if repair and current.damage:
                moved, what = self._set_aside(self.path, "it")
                steps.append(what)
            steps.append(f"the fresh count goes on from its copy {self.prev.name} ({count})")
            if repair and moved:
                steps.append(self._restore(copy.raw))
            elif not repair and current.damage:
                steps.append("the kiosk sets the damaged file aside when it starts")
            if not current.damage:
                steps.append(
                    f"to start from 0, stop the kiosk and delete {self.path.name} and "
                    f"{self.prev.name}"
                )
            return self._report(Counts(count, repeats, "; ".join(filter(None, steps))))
        if copy.damage:
            said += f", and its copy {self.prev.name} {copy.damage}"
        else:
            said += ", and it has no copy"
        steps = [said]
        if repair and current.damage:
            steps.append(self._set_aside(self.path, "it")[1])
        if repair and copy.damage:
            steps.append(self._set_aside(self.prev, "the copy")[1])
        steps.append("the fresh count starts again from 0")
        return self._report(Counts(0, {}, "; ".join(filter(None, steps))))

    @staticmethod
    def _report(found: Counts) -> Counts:
        log.error("%s", found.problem)
        return found

    def save_counts(self, count: int, repeats: dict[str, int]) -> None:
        """Write the counts, keeping the file they replace as the copy. Raises OSError
        (full disk, read-only storage, a damaged file that cannot be set aside)."""
        raw = encode_counts(count, repeats)
        if len(raw) > STATE_LIMIT:
            raise OSError(
                errno.EFBIG,
                f"the state would be {size_text(len(raw))}, over its limit of "
                f"{size_text(STATE_LIMIT)}",
            )
        self._keep_previous()
        write_atomic(self.path, raw)
        self._remember(raw)

    # -- internals ------------------------------------------------------------------------
    def _read(self, path: Path) -> _Found:
        try:
            raw = read_bounded(path, STATE_LIMIT)
            return _Found(parse_counts(raw), raw)
        except FileNotFoundError:
            return _Found(None)
        except Damage as e:
            return _Found(None, damage=str(e))

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _remember(self, raw: bytes) -> None:
        self._known, self._last = self._stamp(), raw

    def _keep_previous(self) -> None:
        """state.json -> state.json.prev, if state.json is good; damaged files are set
        aside first (OSError if that fails: nothing damaged is ever overwritten)."""
        if self._known is None or self._stamp() != self._known:  # not ours, or changed since
            found = self._read(self.path)
            if found.damage:
                _, what = self._set_aside(self.path, "it")
                log.error("state file %s %s; %s", self.path, found.damage, what)
            elif found.counts is not None:
                self._remember(found.raw)
        keep = True
        for path in list(self._blocked):
            if not self._read(path).damage:
                self._blocked.remove(path)  # gone or mended since
            elif not self._set_aside(path, "it")[0]:
                if path == self.path:
                    raise OSError(errno.EEXIST, f"{path} is damaged and cannot be set aside")
                keep = False  # a damaged copy stays where it is: state.json is still written
        if self._known is None or not keep:
            return  # nothing good to keep: the copy stays as it is
        link = self.prev.with_name(f".{self.prev.name}.link")
        try:
            link.unlink(missing_ok=True)
            os.link(self.path, link)
        except OSError:  # no hard links (FAT, some network disks), or state.json is gone
            write_atomic(self.prev, self._last)
            return
        os.replace(link, self.prev)

    def _set_aside(self, path: Path, it: str) -> tuple[bool, str]:
        """Rename a damaged file to <name>.damaged-<time>, keeping the newest few. Whether
        it worked, and what was done as a clause of the problem line."""
        now = time.time()
        stamp = (
            time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now % 1 * 1_000_000):06d}"
        )
        target = path.with_name(f"{path.name}.damaged-{stamp}")
        n = 1
        while os.path.lexists(target):
            target, n = path.with_name(f"{path.name}.damaged-{stamp}-{n}"), n + 1
        try:
            os.rename(path, target)
        except OSError as e:
            if path not in self._blocked:
                self._blocked.append(path)
            return False, f"could not set {it} aside ({e.strerror or e}): it is not overwritten"
        if path in self._blocked:
            self._blocked.remove(path)
        self._prune()
        return True, f"set {it} aside as {target.name}"

    def _prune(self) -> None:
        """At most KEEP_DAMAGED set-aside files (folders are left alone)."""
        aside = []
        for p in self.path.parent.glob(f"{self.path.name}*.damaged-*"):
            with contextlib.suppress(OSError):  # renaming sets the change time: newest first
                aside.append((p.lstat().st_ctime_ns, p.name, p))
        for *_, old in sorted(aside, reverse=True)[KEEP_DAMAGED:]:
            with contextlib.suppress(OSError):
                if old.is_symlink() or not old.is_dir():
                    old.unlink()

    def _restore(self, raw: bytes) -> str:
        try:
            write_atomic(self.path, raw)
        except OSError as e:
            return f"{self.path.name} is not restored yet ({e.strerror or e})"
        self._remember(raw)
        return f"restored as {self.path.name}"


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

    def __init__(self, store: StateStore, wake: threading.Event | None = None) -> None:
        self.store = store
        self.wake = wake  # set when a count settles: the frame loop puts its picture up now
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
        if self.wake is not None:
            self.wake.set()
