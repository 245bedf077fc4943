"""Reloading the show while it runs (rehearsal saves and /installation/reload).

Only a valid show swaps in; an invalid save keeps the last good one, is logged with
file:line, and in rehearsal mode appears as an overlay on the wall. Restart-only keys
(show/changes.py's RESTART table) keep their running values and are named in the log.

Every reload and rebuild runs off the frame thread, and never more than one at a time:
a request while one runs is remembered and runs once after it (a storm of 2,000
reloads costs two loads, not 2,000 threads). A rebuilt part (a new worker for a new
engine, new cue targets) comes back through the inbox as PartReady; one from an older
reload than the newest asked for is retired instead of swapped in.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from installation.app.contracts import CueOut, Part, Worker
from installation.core.events import Fault, ShowReloaded
from installation.errors import ShowError
from installation.show.changes import ShowChange, running_values
from installation.show.schema import Show
from installation.show.watch import ShowWatcher, overlay_text

log = logging.getLogger("installation.reload")

PARTS = ("worker", "cues")


@dataclass(frozen=True)
class WorkerReady:
    """A worker rebuilt for a reloaded show, started and ready to take over."""

    part: Worker
    generation: int


@dataclass(frozen=True)
class CuesReady:
    """Cue targets rebuilt for a reloaded show (None: the new show has none)."""

    part: CueOut | None
    generation: int


PartReady = WorkerReady | CuesReady


@dataclass(frozen=True)
class Refused:
    """An invalid save: the running show stays."""

    message: str
    overlay: str


@dataclass(frozen=True)
class Accepted:
    """A valid save to apply: the new show (restart-only values kept) and the parts to
    rebuild for it."""

    show: Show
    new_worker: bool
    new_cues: bool


class _Coalescing:
    """Runs `job` on one thread; a request while it runs makes it run once more after."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._job: Callable[[], None] | None = None
        self._running = False

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._job = job  # the newest request wins
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                job, self._job = self._job, None
                if job is None:
                    self._running = False
                    return
            try:
                job()
            except Exception:  # a failing job is the job's to report; the loop goes on
                log.exception("%s failed", self.name)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running


class Reloader:
    def __init__(
        self,
        watcher: ShowWatcher | None,
        inbox: Any,
        *,
        make_worker: Callable[[Show], Worker | None] | None = None,
        make_cues: Callable[[Show], CueOut | None] | None = None,
    ) -> None:
        self.watcher = watcher
        self.inbox = inbox  # PartReady and Fault go back to the frame loop through it
        self.make_worker = make_worker
        self.make_cues = make_cues
        self.generations: dict[str, int] = dict.fromkeys(PARTS, 0)
        self.requests = 0
        self._loads = _Coalescing("show-reload")
        self._builds = {name: _Coalescing(f"reload-{name}") for name in PARTS}
        self._retired: queue.SimpleQueue[Part | None] = queue.SimpleQueue()
        self._retirer: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<Reloader requests={self.requests} generations={self.generations}>"

    # -- /installation/reload ---------------------------------------------------------------
    def request(self, source: str = "osc") -> bool:
        """Read and hash the files off the frame thread; the result comes back through the
        inbox like a rehearsal save. False when there is no show watcher."""
        log.info("reload asked (from %s)", source)
        if self.watcher is None:
            return False
        self.requests += 1
        watcher = self.watcher

        def load() -> None:
            watcher.reload()  # reports through the watcher's on_change (the inbox)

        self._loads.submit(load)
        return True

    # -- a reloaded show ------------------------------------------------------------------
    def review(
        self, running: Show, result: Show | ShowError, change: ShowChange | None
    ) -> Accepted | Refused | None:
        """What to do with a watcher's result; None: nothing changed."""
        if isinstance(result, ShowError):
            first = result.issues[0] if result.issues else "unknown problem"
            message = f"show not reloaded, still the last good one: {first}"
            log.warning("reload refused: %s", first)
            return Refused(message, overlay_text(result))
        if change is not None and not change.changed:
            return None
        if change is not None:
            log.info("show reloaded: %s", change.summary())
            if change.needs_restart:
                log.warning(
                    "show reloaded: restart the kiosk to apply %s", ", ".join(change.restart)
                )
        keys = set(change.keys) if change is not None else {"osc.targets"}
        return Accepted(
            running_values(running, result),
            new_worker=change is None or change.needs_new_worker,
            new_cues=bool(keys & {"osc.targets", "osc.heartbeat_s"}),
        )

    def on_reloaded(
        self,
        running: Show,
        event: ShowReloaded,
        fault: Callable[[str, str], None],
        overlay: Callable[[str | None], None],
        options: Any,
    ) -> Show | None:
        """A watcher's result on the frame thread: a refusal is a fault (and, in rehearsal,
        an overlay on the wall); a valid show starts the rebuilds it needs and is returned
        for the app to use."""
        result, change = event.result, event.change
        if not isinstance(result, Show | ShowError):
            fault("reload", f"ignored reload result {result!r}")
            return None
        outcome = self.review(running, result, change if isinstance(change, ShowChange) else None)
        if isinstance(outcome, Refused):
            fault("show-invalid", outcome.message)
            if options.rehearsal:
                overlay(outcome.overlay)
            return None
        overlay(None)
        if outcome is None:
            return None
        self.rebuild(outcome)
        return outcome.show

    def rebuild(self, accepted: Accepted) -> None:
        """Build and start the parts the reload needs, one thread per part at most."""
        show, make_worker, make_cues = accepted.show, self.make_worker, self.make_cues
        if accepted.new_worker:
            if make_worker is None:
                log.warning("show reloaded: engine changes apply on restart")
            else:
                self._rebuild("worker", lambda: make_worker(show), _worker_ready)
        if accepted.new_cues and make_cues is not None:
            self._rebuild("cues", lambda: make_cues(show), _cues_ready)

    def _rebuild(
        self,
        name: str,
        make: Callable[[], Any],
        ready: Callable[[Any, int], PartReady],
    ) -> None:
        self.generations[name] += 1
        generation = self.generations[name]

        def build() -> None:
            if generation < self.generations[name]:
                return  # a newer reload asked again meanwhile: build only that one
            try:
                part = make()
                if part is not None:  # cues: None means the new show has no targets
                    part.start()
            except Exception as e:  # the running part stays; the reload is reported
                log.exception("show reloaded: the new %s did not start", name)
                self.inbox.put(
                    Fault("reload", f"the new {name} did not start ({e}); kept the old one")
                )
                return
            self.inbox.put(ready(part, generation))

        self._builds[name].submit(build)

    def is_current(self, event: PartReady) -> bool:
        """A part from an older reload than the newest asked for must not swap in: saves in
        quick succession end with the last one's part, whichever thread finished first."""
        name = "worker" if isinstance(event, WorkerReady) else "cues"
        return not event.generation or event.generation >= self.generations[name]

    # -- old parts ------------------------------------------------------------------------
    def retire(self, part: Part | None) -> None:
        """Stop a replaced part off the frame thread (a worker may take seconds to exit)."""
        if part is None:
            return
        if self._retirer is None or not self._retirer.is_alive():
            self._retirer = threading.Thread(target=self._retire_loop, name="retire", daemon=True)
            self._retirer.start()
        self._retired.put(part)

    def _retire_loop(self) -> None:
        while (part := self._retired.get()) is not None:
            try:
                part.stop()
            except Exception:  # the old part may already be dead; the new one is what matters
                log.exception("stopping the replaced %s", type(part).__name__)

    def busy(self) -> bool:
        """A load or a build is running (tests wait on this)."""
        return self._loads.busy or any(b.busy for b in self._builds.values())

    def stop(self) -> None:
        if self._retirer is not None:
            self._retired.put(None)
            self._retirer.join(5.0)


def _worker_ready(part: Worker, generation: int) -> PartReady:
    return WorkerReady(part, generation)


def _cues_ready(part: CueOut | None, generation: int) -> PartReady:
    return CuesReady(part, generation)
