"""Wiring: build the edges from the show, run the frame loop, stop in reverse.

The main thread runs the kiosk's frame loop and never waits on anything but the
frame pacing: edges (dice, OSC) put events into `inbox` from their own threads,
the worker is polled without blocking, and the director decides what happens.
"""

from __future__ import annotations

import logging
import queue
import random
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from installation import presenting
from installation.cluster_sync import flip_due, handle_cluster_event
from installation.core import events as ev
from installation.core.dice import random_throw
from installation.core.director import (
    Action,
    Cue,
    Director,
    DirectorConfig,
    EnterState,
    PersistCount,
    Present,
    Render,
)
from installation.core.schedule import Schedule
from installation.core.variations import MAX_REROLLS, Variation, reroll
from installation.live_reload import apply_reload, reload_in_background, swap_part
from installation.osc.addresses import CUE_EVENTS
from installation.show.schema import Show, variation_rule
from installation.storage.state import CountWriter, StateStore

log = logging.getLogger("installation.app")

PHASE_CHECK_S = 1.0
FRAME_FAILURE_BURST = 50
MAX_INBOX_PER_FRAME = 64


@dataclass
class RunOptions:
    window: bool = False  # force a window instead of fullscreen
    rehearsal: bool = False  # keyboard throws (and, with live reload, error overlays)
    exit_after: float | None = None  # stop after this many seconds (headless runs, tests)
    screenshot_dir: Path | None = None  # save a PNG of each presented variation
    auto_throw: float | None = None  # throw at random every N seconds (demo, soak)
    extra: dict[str, Any] = field(default_factory=dict)


def _cue_lead_s(show: Show) -> float:
    leads = [t.lead_ms for t in show.osc.targets if t.mode == "immediate"]
    return max(leads, default=0) / 1000.0


def _vid(v: Variation) -> tuple[str, int, int]:
    return (v.key, v.seed, v.number)


class App:
    """One running show. Edges are injected (fakes in tests) or built from the show."""

    def __init__(
        self,
        show: Show,
        options: RunOptions,
        *,
        kiosk: Any,
        worker: Any,
        cues: Any = None,
        status: Any = None,
        notifier: Any = None,
        inbox: queue.Queue[Any] | None = None,
        edges: list[Any] | None = None,
        cluster: Any = None,
        archive: Any = None,
        reloader: Any = None,
        make_worker: Callable[[Show], Any] | None = None,
        make_cues: Callable[[Show], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.show = show
        self.options = options
        self.kiosk = kiosk
        self.worker = worker
        self.cues = cues
        self.status = status
        self.notifier = notifier
        self.inbox: queue.Queue[Any] = inbox if inbox is not None else queue.Queue()
        # input edges (dice link, OSC control): threads that only put events into the inbox
        self.edges: list[Any] = list(edges or [])
        self.cluster = cluster  # ClusterSync when this node is one of several in the room
        self.archive = archive  # every shown variation, saved by a background thread
        self.reloader = reloader  # ShowWatcher: rehearsal saves and /installation/reload
        self.make_worker = make_worker  # a new worker when a reload changes the engine
        self.make_cues = make_cues  # new cue targets on a reload
        self.rebuilds: dict[str, int] = {}  # reload generation asked for, per part
        self.clock = clock
        self.wall = wall
        self.rule = variation_rule(show)
        self.schedule = show.schedule.build() if show.schedule else Schedule.always_open()
        self.phase = self.schedule.phase_at(datetime.fromtimestamp(wall(), UTC))
        self._next_phase_check = clock() + PHASE_CHECK_S
        self.state_store = StateStore(show.storage_dir / "state.json")
        count, repeats = self.state_store.counts() if self.rule.seed_mode == "fresh" else (0, {})
        self.progress = CountWriter(self.state_store) if self.rule.seed_mode == "fresh" else None
        if self.progress is not None:
            self.progress.settled = count
        self.director = Director(
            DirectorConfig(
                show.dice.count,
                show.dice.faces,
                show.display.attract_after_s,
                give_up_after_s=2 * show.engine.worker_timeout_s + 30,
            ),
            self.rule,
            now=clock(),
            count=count,
            repeats=repeats,
            is_open=self.phase == "open",
        )
        self.counters: dict[str, int] = {}
        self.started_at = clock()
        self.running = False
        # arrived images (worker Results) awaiting their present, by variation id
        self._images: dict[tuple[str, int, int], Any] = {}
        self._throw_started: float | None = None
        self._rng = random.Random()
        self._next_auto = self.started_at + (options.auto_throw or 0)
        self._blackout = False
        self.presented: list[Variation] = []
        # presents held back so cues can lead them (immediate targets' lead_ms)
        self.cue_lead_s = 0.0 if cluster is not None else _cue_lead_s(show)
        self._timed: list[tuple[float, Any]] = []  # (monotonic due time, Result)
        self._unsettled: set[int] = set()  # fresh counts persisted here, not yet on disk
        self._pending_screenshot: str | None = None
        self._presented_at = 0.0
        self._shown_at = 0.0
        self.housekeeper: Any = None
        if status is not None:
            from installation.ops.liveness import Housekeeper

            self.housekeeper = Housekeeper(
                status,
                notifier,
                show.storage_dir / "status.json",
                worker_grace_s=2 * show.engine.worker_timeout_s + 60,
                started_at=self.started_at,
            )

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        self.kiosk.open()
        self.kiosk.set_artwork(self._artwork())
        poster = self.show.display.standby_image
        if poster is not None:  # checked by the loader; a file removed since means black
            from installation.engines.images import load_rgb

            try:
                self.kiosk.set_poster(load_rgb(self.show.resolve(poster)))
            except Exception as e:
                self.fault("standby-image", f"cannot read {poster}: {e}; standby is black")
        self.kiosk.set_state(self.director.state.value)
        self.worker.start()
        for part in [self.cues, *self.edges]:
            if part is not None:
                part.start()
        self.running = True
        log.info(
            "show %r started: %d dice, engine %s",
            self.show.show.name,
            self.show.dice.count,
            self.show.variations.engine,
        )

    def stop(self) -> None:
        self.running = False
        if self.notifier is not None:
            self.notifier.stopping()
        if self.housekeeper is not None:
            self.housekeeper.close()
        parts = [*reversed(self.edges), self.cues, self.worker, self.archive, self.progress]
        for part in [*parts, self.kiosk]:
            if part is None:
                continue
            try:
                part.stop() if hasattr(part, "stop") else part.close()
            except Exception:  # stopping must go on whatever one part does
                log.exception("error while stopping %s", type(part).__name__)

    def run(self) -> int:
        """The frame loop. A frame that fails is logged and counted and the show goes on;
        only a burst of failures (a broken install, not a bad input) ends the process,
        with status 1, so systemd restarts it."""
        self.start()
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "running", False))
        failures: deque[float] = deque(maxlen=FRAME_FAILURE_BURST)
        try:
            while self.running:
                try:
                    self.step()
                except Exception:
                    log.exception("a frame failed; the show goes on")
                    self.counters["frame-error"] = self.counters.get("frame-error", 0) + 1
                    failures.append(self.clock())
                    if len(failures) == failures.maxlen and failures[-1] - failures[0] < 10.0:
                        log.critical("%d frames failed within 10 s; stopping", len(failures))
                        return 1
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
        return 0

    # -- one frame --------------------------------------------------------------------
    def step(self) -> None:
        now = self.clock()
        for event in self.kiosk.poll_input():
            self.handle_event(event, now)
        for _ in range(MAX_INBOX_PER_FRAME):
            try:
                event = self.inbox.get_nowait()
            except queue.Empty:
                break
            self.handle_event(event, now)
        for msg in self.worker.poll():
            self._on_worker_message(msg, now)
        if self.cluster is not None:
            flip_due(self, now)
        if self._timed:
            presenting.present_due(self, now)
        if self.options.auto_throw and now >= self._next_auto:
            self._next_auto = now + self.options.auto_throw
            self.handle_event(ev.RandomThrow("auto"), now)
        if now >= self._next_phase_check:
            self._next_phase_check = now + PHASE_CHECK_S
            self._follow_schedule(now)
        self._apply(self.director.tick(now), now)
        self.kiosk.frame()
        if self.housekeeper is not None:
            self.housekeeper.tick(now, self)
        self._after_frame(now)

    def _follow_schedule(self, now: float) -> None:
        """Opening hours: after a restart or power cut, whatever the clock says now applies."""
        if self.cluster is not None and self.cluster.role == "follower":
            return  # followers mirror the leader's hours (ClusterOpen)
        phase = self.schedule.phase_at(datetime.fromtimestamp(self.wall(), UTC))
        if phase != self.phase:
            log.info("opening hours: %s -> %s", self.phase, phase)
            self.phase = phase
        if self.cluster is not None:
            self.cluster.link.set_open(phase == "open")
        if phase == "open":
            self._apply(self.director.open(now), now)
        else:
            self._apply(self.director.close(now), now)

    def handle_event(self, event: Any, now: float) -> None:
        """Route one inbox event to the director; unknown events are counted, never fatal."""
        if isinstance(event, ev.ThrowCommitted | ev.RandomThrow):
            self._throw(event, now)
        elif isinstance(event, ev.DiceRolling):
            self._apply(self.director.dice_rolling(now), now)
        elif isinstance(event, ev.ThrowCancelled):
            log.info("throw cancelled: %s", event.reason)
            self._apply(self.director.throw_cancelled(now, event.reason), now)
        elif isinstance(event, ev.Blackout):
            self._blackout = True
            self.kiosk.set_state("blackout")
        elif isinstance(event, ev.Resume):
            self._blackout = False
            self.kiosk.set_state(self.director.state.value)
        elif isinstance(event, ev.ReloadShow):
            if self.reloader is None:
                self.fault("reload", "reload asked but this kiosk has no show watcher")
            else:
                reload_in_background(self.reloader)
        elif isinstance(event, ev.ShowReloaded):
            apply_reload(self, event.result, event.change)  # type: ignore[arg-type]
        elif isinstance(event, ev.PartReady):
            swap_part(self, event.name, event.part, event.generation)
        elif isinstance(event, ev.Fault):
            self.fault(event.kind, event.message)
        elif isinstance(event, ev.LinkStatus):
            if self.status is not None:
                self.status.set_section(event.name, event.info)
        elif type(event).__module__ == "installation.core.cluster":
            handle_cluster_event(self, event, now)
        elif isinstance(event, ev.KioskQuit):
            log.info("quit key pressed")
            self.running = False
        else:
            self.fault("unknown-event", f"ignored event {event!r}")

    def _throw(self, event: ev.ThrowCommitted | ev.RandomThrow, now: float) -> None:
        if isinstance(event, ev.ThrowCommitted):
            throw = event.throw
        else:
            dice = self.show.dice
            throw = random_throw(dice.count, dice.faces, self._rng, event.source)
        if self.status is not None:
            self.status.record_throw(throw.faces, throw.source)
        self._throw_started = now  # a newer throw supersedes: one start time, not a map
        self._apply(self.director.throw(throw, now), now)

    def fault(self, kind: str, message: str) -> None:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        log.warning("%s: %s", kind, message)
        if self.status is not None:
            self.status.error(kind, message)

    # -- worker results -----------------------------------------------------------------
    def _on_worker_message(self, msg: Any, now: float) -> None:
        variation: Variation = msg.variation
        if hasattr(msg, "image"):
            if self.cluster is not None and self.cluster.hold(msg, self.wall()):
                return  # shown when the room flips together (see _flip_cluster)
            self._image_arrived(msg, now)
            return
        kind = getattr(msg, "kind", "error")
        self.fault(
            f"render-{kind}", f"variation {variation.key} seed {variation.seed}: {msg.reason}"
        )
        if kind == "unsafe":
            self._request_reroll(variation, now)

    def _image_arrived(self, result: Any, now: float) -> None:
        self._images[_vid(result.variation)] = result
        if len(self._images) > 8:  # only the awaited few matter; drop the oldest
            self._images.pop(next(iter(self._images)))
        self._apply(self.director.image_ready(result.variation, now), now)

    def _request_reroll(self, variation: Variation, now: float) -> None:
        if variation.reroll >= MAX_REROLLS:
            self.fault(
                "reroll-limit", f"{variation.key}: {MAX_REROLLS} re-rolls refused; keeping the wall"
            )
            self._apply(self.director.give_up(variation, now, "every re-roll refused"), now)
            return
        new = reroll(self.rule, variation)
        if self.cluster is not None:
            new = self.cluster.rerolled(variation, new)
        self._apply(self.director.rerolled(variation, new), now)

    # -- actions ----------------------------------------------------------------------
    def _apply(self, actions: list[Action], now: float) -> None:
        for action in actions:
            if isinstance(action, Render):
                self._render(action.variation, now)
            elif isinstance(action, Present):
                self._present(action.variation, now)
            elif isinstance(action, PersistCount):
                self._persist_count(action.count, action.repeats)
            elif isinstance(action, EnterState):
                if not self._blackout:
                    self.kiosk.set_state(action.state.value)
            elif isinstance(action, Cue):
                self._cue(action)

    def _render(self, variation: Variation, now: float) -> None:
        # blocked seeds never get here: the variation rule re-rolls past them
        self.worker.request(variation)
        if self.cluster is not None:
            self.cluster.rendering(variation)

    def _present(self, variation: Variation, now: float) -> None:
        presenting.present(self, self._images.pop(_vid(variation)), now)

    def _persist_count(self, count: int, repeats: dict[str, int]) -> None:
        if self.progress is None:
            self.progress = CountWriter(self.state_store)
        self._unsettled = {n for n in self._unsettled if n > self.progress.settled}
        self._unsettled.add(count)  # its variation waits for this write before it shows
        self.progress.submit(count, repeats)

    def _cue(self, cue: Cue) -> None:
        if cue.name == "ignored":
            self.fault("throw-ignored", f"throw {list(cue.faces)} ignored: {cue.reason}")
        if self.cues is None or cue.name not in CUE_EVENTS:
            return
        v = cue.variation
        self.cues.cue(
            cue.name,
            faces=cue.faces or (v.faces if v else ()),
            seed=v.seed if v else None,
            number=v.number if v else None,
            at=self._shown_at if cue.name == "shown" else None,
        )

    # -- after each frame -------------------------------------------------------------
    def _after_frame(self, now: float) -> None:
        presenting.maybe_screenshot(self, now)
        if self.options.exit_after is not None and now - self.started_at >= self.options.exit_after:
            self.running = False

    def _artwork(self) -> np.ndarray:
        from installation.engines.images import load_rgb

        paintings = self.show.artwork.paintings
        if paintings:
            try:
                return load_rgb(self.show.resolve(paintings[0]))
            except Exception as e:  # the loader checked it; a file removed since must not stop us
                self.fault("artwork", f"cannot read {paintings[0]}: {e}")
        from installation.engines.images import placeholder

        return placeholder(
            (self.show.variations.width, self.show.variations.height),
            self.show.show.title or self.show.show.name,
        )

    def state_name(self) -> str:
        return "blackout" if self._blackout else self.director.state.value

    def sections(self) -> dict[str, dict[str, Any]]:
        """Per-edge health for the status: worker, display, dice link, OSC."""
        out: dict[str, dict[str, Any]] = {
            "worker": self.worker.health(),
            "display": self.kiosk.stats(),
            "app": {"counters": dict(self.counters)},
        }
        if self.cues is not None:
            out["cues"] = self.cues.stats()
        if hasattr(self.worker, "stats"):
            out["cache"] = self.worker.stats()
        if self.archive is not None:
            out["archive"] = self.archive.stats()
        for edge in self.edges:
            name = getattr(edge, "status_name", type(edge).__name__.lower())
            if hasattr(edge, "status"):
                out[name] = edge.status()
            elif hasattr(edge, "counters"):
                out[name] = {"counters": dict(edge.counters)}
        return out

    def snapshot(self) -> dict[str, Any]:
        """The status as plain data (also the /installation/status reply)."""
        if self.status is not None:
            return dict(self.status.snapshot())
        last = self.director.shown
        return {
            "show": self.show.show.name,
            "state": self.state_name(),
            "engine": getattr(self.worker, "engine_name", "unknown"),
            "uptime_s": round(self.clock() - self.started_at, 1),
            "last_throw": list(self.director.last_throw.faces)
            if self.director.last_throw
            else None,
            "last_variation": None
            if last is None
            else {"number": last.number, "seed": last.seed, "key": last.key},
            "counters": dict(self.counters),
        }
