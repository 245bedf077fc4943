"""The running show: the frame loop, routing events by type, applying the director's actions.

The main thread runs the screen's frame loop and never waits on anything but the
frame pacing: edges (dice, OSC, the cluster link, the show watcher) put events into
the inbox from their own threads, the worker is polled without blocking, and the
director (a pure state machine) decides what happens. The presenter, the reloader,
the room and the housekeeper own their own state; App owns the edges and the show.
"""

from __future__ import annotations

import logging
import random
import signal
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from installation.app import contracts as c
from installation.app import status_view
from installation.app.arrivals import Arrivals
from installation.app.housekeeper import Housekeeper
from installation.app.inbox import Inbox
from installation.app.lifecycle import Started, run_frames
from installation.app.parts import (
    FreshCounts,
    RunOptions,
    director_config,
    display_for_reload,
    new_director,
    refresh_prefill,
    schedule_for,
)
from installation.app.prepaint import Prepainter
from installation.app.presenter import Presenter, cue_lead_s
from installation.app.reloader import CuesReady, Reloader, WorkerReady
from installation.app.room import Room
from installation.core import cluster as cl
from installation.core import events as ev
from installation.core.dice import random_throw
from installation.core.director import (
    Action,
    Cue,
    Director,
    EnterState,
    PersistCount,
    Present,
    Render,
)
from installation.core.hours import OpeningHours
from installation.core.variations import Variation
from installation.ops.pjlink import ProjectorController
from installation.osc.addresses import CUE_EVENTS
from installation.osc.control import ControlServer
from installation.show.schema import Show, variation_rule

if TYPE_CHECKING:
    from installation.ops.status import StatusBoard

log = logging.getLogger("installation.app")

MAX_INBOX_PER_FRAME = 64


class App:
    """One running show; edges injected (app/build.py, or fakes): opens nothing itself."""

    def __init__(
        self,
        show: Show,
        options: RunOptions,
        *,
        kiosk: c.Screen,
        worker: c.Worker,
        cues: c.CueOut | None = None,
        status: StatusBoard | None = None,
        housekeeper: Housekeeper | None = None,
        notifier: c.Notify | None = None,
        inbox: Inbox | None = None,
        edges: Mapping[str, c.InputEdge] | None = None,
        room: Room | None = None,
        archive: c.ArchiveOut | None = None,
        reloader: Reloader | None = None,
        counts: FreshCounts | None = None,
        director: Director | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.show = show
        self.options = options
        self.kiosk = kiosk
        self.worker = worker
        self.cues = cues
        self.status = status
        self.housekeeper = housekeeper
        self.notifier = notifier
        self.inbox = inbox if inbox is not None else Inbox()
        # input edges (dice link, OSC control ...), by their status section's name
        self.edges: dict[str, c.InputEdge] = dict(edges or {})
        self.room = room  # several nodes in one room: images wait for the room's flip
        self.archive = archive  # every shown variation, saved by a background thread
        self.reloader = reloader or Reloader(None, self.inbox)
        self.counts = counts
        self.clock = clock
        self.wall = wall
        self.hours = OpeningHours(schedule_for(show), wall, now=clock())
        self.director = director or new_director(show, counts, clock=clock, wall=wall)
        self.rule = self.director.rule
        if counts is not None:
            counts.writer.settled = counts.count
            if counts.problem and status is not None:  # logged once by the store already
                status.error("state", counts.problem)
        self.presenter = Presenter(
            show,
            kiosk,
            fault=self.fault,
            wall=wall,
            archive=archive,
            status=status,
            counts=counts.writer if counts else None,
            lead_s=0.0 if room is not None else cue_lead_s(show),
            screenshot_dir=options.screenshot_dir,
        )
        self.presenter.on_release = self._shown_cue
        self.counters: dict[str, int] = {}
        self.started_at = clock()
        self.running = False
        self.blackout = False
        self.arrivals = Arrivals(self.director, self.fault)
        self._rng = random.Random()
        self._next_auto = self.started_at + (options.auto_throw or 0)
        self.prepainter = Prepainter(self.started_at, kiosk, self.director, self.presenter)
        self._started = Started()

    def __repr__(self) -> str:
        return f"<App {self.show.show.name!r} {self.state_name()} {self._started!r}>"

    # -- lifecycle ----------------------------------------------------------------------
    def parts(self) -> list[c.Part]:
        """Everything started, in start order: the screen first (a wall is lit before
        anything can ask it for a picture), input edges last (no event before the rest)."""
        parts: list[c.Part | None] = [self.kiosk, self.archive, self.worker, self.cues]
        parts += self.edges.values()
        return [p for p in parts if p is not None]

    def start(self) -> None:
        """Start every part in order; a part that fails stops the started ones (Started)."""
        self._started.start(self.parts(), after=self._part_started)
        self.running = True
        log.info(
            "show %r started: %d dice, engine %s",
            self.show.show.name,
            self.show.dice.count,
            self.show.variations.engine,
        )

    def _part_started(self, part: c.Part) -> None:
        if part is self.kiosk:
            self.presenter.dress(self.director.state.value)

    def stop(self) -> None:
        """Stop what started, in reverse; stopping goes on whatever one part does."""
        self.running = False
        if self.notifier is not None:
            self.notifier.stopping()
        if self.housekeeper is not None:
            self.housekeeper.stop()
        helpers: list[c.Stoppable] = [self.reloader]
        if self.counts is not None:
            helpers.append(self.counts.writer)
        self._started.stop(first=helpers)

    def run(self) -> int:
        """Start, run frames until asked to stop, stop. A frame that fails is logged and
        counted and the show goes on; only a burst of failures (a broken install, not a bad
        input) ends the process with status 1, so systemd restarts it."""
        try:
            self.start()
            signal.signal(signal.SIGTERM, lambda *_: self.quit())
            failed = lambda: self.count("frame-error")  # noqa: E731
            return run_frames(self.step, lambda: self.running, failed, self.clock)
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()

    def quit(self) -> None:
        self.running = False

    # -- one frame ----------------------------------------------------------------------
    def step(self) -> None:
        now = self.clock()
        for event in self.kiosk.poll_input():
            self.handle_event(event, now)
        for event in self.inbox.take(MAX_INBOX_PER_FRAME):
            self.handle_event(event, now)
        for reply in self.worker.poll():
            self._apply(self.arrivals.reply(reply, self.rule, self.room, self.wall(), now), now)
        if self.room is not None:
            ready, actions = self.room.flip(self.director, self.wall(), now)
            for result in ready:
                self._apply(self.arrivals.arrived(result, now), now)
            self._apply(actions, now)
        self.presenter.due(now)
        self.prepainter.step(now, self.worker, self.show.dice)  # cached outcomes' slides
        if self.options.auto_throw and now >= self._next_auto:
            self._next_auto = now + self.options.auto_throw
            self.handle_event(ev.RandomThrow("auto"), now)
        if self.room is None or self.room.role != "follower":  # followers mirror the leader
            self._follow_hours(now)
        self._apply(self.director.tick(now), now)
        self.kiosk.frame()
        if self.housekeeper is not None:
            self.housekeeper.tick(
                now,
                state=self.state_name(),
                worker=self.worker,
                show_name=self.show.show.name,
                sections=self.sections,
                edges_healthy=all(
                    e.healthy() for e in self.edges.values() if isinstance(e, ControlServer)
                ),
            )
        self.presenter.after_frame(now)
        if self.options.exit_after is not None and now - self.started_at >= self.options.exit_after:
            self.running = False

    def _follow_hours(self, now: float) -> None:
        """After a restart or power cut, whatever the clock says now applies. In rehearsal
        the hours never block: installers work when the gallery is closed."""
        phase = self.hours.check(now)
        if phase is None:
            return
        if self.options.rehearsal:
            self.kiosk.set_banner(None if phase == "open" else f"{phase} - rehearsal")
            phase = "open"
        if self.room is not None:
            self.room.link.set_open(phase == "open")
        director = self.director
        self._apply(director.open(now) if phase == "open" else director.close(now), now)

    def handle_event(self, event: object, now: float) -> None:
        """Route one event by its type; unknown events are counted, never fatal."""
        if isinstance(event, ev.ThrowCommitted | ev.RandomThrow):
            self._throw(event, now)
        elif isinstance(event, ev.DiceRolling):
            self._apply(self.director.dice_rolling(now), now)
        elif isinstance(event, ev.ThrowCancelled):
            log.info("throw cancelled: %s", event.reason)
            self._apply(self.director.throw_cancelled(now, event.reason), now)
        elif isinstance(event, ev.Blackout):
            log.info("blackout (from %s): the wall is dark until resume", event.source)
            self.blackout = True
            self.kiosk.set_state("blackout")
        elif isinstance(event, ev.Resume):
            log.info("resume (from %s): back to %s", event.source, self.director.state.value)
            self.blackout = False
            self.kiosk.set_state(self.director.state.value)
        elif isinstance(event, ev.HoursOverride):
            self.hours.force(event.phase, event.seconds, event.source)
        elif isinstance(event, ev.ProjectorPower):
            log.info("projector power override: %s (from %s)", event.on, event.source)
            for edge in self.edges.values():
                if isinstance(edge, ProjectorController):
                    edge.override = event.on
        elif isinstance(event, ev.ReloadShow):
            self.worker.retry_engine()  # a model that did not load: its disk may be mounted now
            if not self.reloader.request(event.source):
                self.fault("reload", "reload asked but this kiosk has no show watcher")
        elif isinstance(event, ev.ShowReloaded):
            overlay = self.kiosk.set_overlay
            new = self.reloader.on_reloaded(self.show, event, self.fault, overlay, self.options)
            if new is not None:
                self._use_show(new)
        elif isinstance(event, WorkerReady | CuesReady):
            self._swap(event)
        elif isinstance(event, ev.Fault):
            self.fault(event.kind, event.message)
        elif isinstance(event, ev.LinkStatus):
            if self.status is not None:
                status_view.link_status(self.status, event)
        elif isinstance(event, cl.RoomEvent):
            if self.room is None:
                self.fault(
                    "cluster", f"cluster event {event!r} but this node has no [cluster] role"
                )
                return
            if isinstance(event, cl.RenderShared):
                self.presenter.throw_started(now)
            self._apply(self.room.handle(event, self.director, self.rule, now), now)
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
        self.presenter.throw_started(now)
        self._apply(self.director.throw(throw, now), now)

    def count(self, kind: str) -> None:
        self.counters[kind] = self.counters.get(kind, 0) + 1

    def fault(self, kind: str, message: str) -> None:
        self.count(kind)
        log.warning("%s: %s", kind, message)
        if self.status is not None:
            self.status.error(kind, message)

    # -- actions --------------------------------------------------------------------------
    def _apply(self, actions: list[Action], now: float) -> None:
        for action in actions:
            if isinstance(action, Render):
                self.worker.request(action.variation)
                if self.room is not None:
                    self.room.rendering(action.variation)
            elif isinstance(action, Present):
                result = self.arrivals.take(action.variation)
                if result is None:
                    self.fault("present", f"no image for {action.variation.key}")
                else:
                    self.presenter.present(result, now)
            elif isinstance(action, PersistCount):
                self.presenter.persist(action.count, action.repeats)
            elif isinstance(action, EnterState):
                if not self.blackout:
                    self.kiosk.set_state(action.state.value)
            elif isinstance(action, Cue):
                self._cue(action)

    def _cue(self, cue: Cue) -> None:
        if cue.name == "ignored":
            self.fault("throw-ignored", f"throw {list(cue.faces)} ignored: {cue.reason}")
        if self.cues is None or cue.name not in CUE_EVENTS or cue.name == "shown":
            return  # `shown` goes out when the presenter releases the picture
        v = cue.variation
        self.cues.cue(
            cue.name,
            faces=cue.faces or (v.faces if v else ()),
            seed=v.seed if v else None,
            number=v.number if v else None,
        )

    def _shown_cue(self, v: Variation, at: float) -> None:
        """The picture is released: it goes up at `at` (wall clock); cue receivers act then."""
        if self.cues is not None:
            self.cues.cue("shown", faces=v.faces, seed=v.seed, number=v.number, at=at)

    # -- reloads --------------------------------------------------------------------------
    def _use_show(self, new: Show) -> None:
        """A valid reload applies: rule, timing, hours, the look of the wall, the plan."""
        self.show = new
        self.rule = self.director.rule = variation_rule(new)
        self.director.config = director_config(new)
        self.hours.schedule = schedule_for(new)
        self.presenter.show = new
        display = display_for_reload(self.kiosk.config, new)
        self.kiosk.configure(display, title=new.show.title, artist=new.show.artist)
        self.presenter.redress()  # a swapped painting or poster reaches attract and standby
        for edge in self.edges.values():  # projectors follow the new hours
            if isinstance(edge, ProjectorController):
                edge.schedule = self.hours.schedule
        refresh_prefill(self.worker, self.show, self.director.next_variation)

    def _swap(self, event: WorkerReady | CuesReady) -> None:
        """On the frame thread: take a rebuilt part, re-ask for what the wall waits on,
        retire the old part off-thread."""
        if not self.reloader.is_current(event):
            self.reloader.retire(event.part)
            return
        old: c.Part | None
        if isinstance(event, WorkerReady):
            old, self.worker = self.worker, event.part
            refresh_prefill(self.worker, self.show, self.director.next_variation)
            if self.director.pending is not None:
                self.worker.request(self.director.pending)
        else:
            old, self.cues = self.cues, event.part
        self._started.replace(old, event.part)
        self.reloader.retire(old)

    # -- what the status shows ------------------------------------------------------------
    def state_name(self) -> str:
        return "blackout" if self.blackout else self.director.state.value

    def sections(self) -> dict[str, Mapping[str, Any]]:
        """Per-part health for the status: worker, display, cache, archive, each edge."""
        return status_view.sections(self)

    def snapshot(self) -> dict[str, Any]:
        """The status as plain data (also the /installation/status reply)."""
        return status_view.snapshot(self)
