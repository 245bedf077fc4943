"""The real edges of a running show, built from its Show: the only place that does.

Construction has no cycle: the director (pure core) is made first, the worker gets
its look-ahead, then App gets every part. Nothing starts here; App.start() starts
the parts in order and unwinds on failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from installation.app.app import App, FreshCounts, RunOptions, new_director
from installation.app.contracts import CueOut, InputEdge, Screen, Worker
from installation.app.housekeeper import Housekeeper
from installation.app.inbox import Inbox
from installation.app.reloader import Reloader
from installation.app.room import Room
from installation.core.events import Fault, ShowReloaded
from installation.core.variations import Variation
from installation.errors import ShowError
from installation.show.schema import Show, variation_rule
from installation.show.schema_screens import resolved_display
from installation.show.watch import ShowWatcher
from installation.storage.state import CountWriter, StateStore

log = logging.getLogger("installation.run")

Faces = tuple[int, ...]


def build_app(show: Show, options: RunOptions) -> App:
    """Every edge the show asks for, ready to start."""
    from installation.display.kiosk import Kiosk
    from installation.ops.notify import Notifier
    from installation.ops.status import StatusBoard
    from installation.storage.archive import archive_for

    display = resolved_display(show)
    if options.window:
        display = display.model_copy(update={"fullscreen": False})
    if options.rehearsal:
        display = display.model_copy(update={"rehearsal_keys": True})
    inbox = Inbox()  # a committed throw sets inbox.wake: the frame's wait ends at once
    kiosk: Screen
    if show.screens:  # several screens: one window each, changing on the same frame
        from installation.display.wall import Wall

        kiosk = Wall(
            display,
            list(show.screens),
            folder=show.folder,
            title=show.show.title,
            artist=show.show.artist,
            dice=show.dice.count,
            faces=show.dice.faces,
            wake=inbox.wake,
        )
    else:
        kiosk = Kiosk(
            display,
            title=show.show.title,
            artist=show.show.artist,
            dice=show.dice.count,
            faces=show.dice.faces,
            wake=inbox.wake,
        )
    counts = fresh_counts(show, wake=inbox.wake)  # a count on disk: its picture goes up now
    director = new_director(show, counts, clock=time.monotonic, wall=time.time)

    def make_worker(s: Show) -> Worker:
        return worker_for(s, director.next_variation, report=faults_to(inbox), wake=inbox.wake)

    watcher = show_watcher(show, inbox)
    status = StatusBoard(show=show.show.name)
    notifier = Notifier()
    started = time.monotonic()
    housekeeper = Housekeeper(
        status,
        notifier,
        show.storage_dir / "status.json",
        worker_grace_s=2 * show.engine.worker_timeout_s + 60,
        started_at=started,
    )
    room = None
    edges: dict[str, InputEdge] = {}
    if options.rehearsal:
        edges["show-watcher"] = watcher  # saving show.toml applies within about a second
    if show.cluster.role != "none":
        from installation.osc.cluster import ClusterLink

        link = ClusterLink.from_section(show.cluster, inbox)
        edges["cluster"] = link
        c = show.cluster
        room = Room(link, give_up_after_s=c.lookahead_ms / 1000.0 + c.ready_timeout_s + 1.0)
        if show.cluster.role == "follower":
            options.auto_throw = None  # the leader owns the dice
    app = App(
        show,
        options,
        kiosk=kiosk,
        worker=make_worker(show),
        cues=cues_for(show),
        status=status,
        housekeeper=housekeeper,
        notifier=notifier,
        inbox=inbox,
        room=room,
        archive=archive_for(show, wake=inbox.wake),  # a journalled picture goes up at once
        reloader=Reloader(watcher, inbox, make_worker=make_worker, make_cues=cues_for),
        counts=counts,
        director=director,
    )
    for name, edge in input_edges(show, app).items():
        app.edges[name] = edge
    return app


def fresh_counts(show: Show, wake: threading.Event | None = None) -> FreshCounts | None:
    """Fresh mode: the count and repeats on disk, and the writer that keeps them there
    (`wake`: set when a count is written, the frame pacing's event)."""
    if variation_rule(show).seed_mode != "fresh":
        return None
    store = StateStore(show.storage_dir / "state.json")
    found = store.load_counts()  # a damaged file is logged, set aside, and the copy used
    return FreshCounts(CountWriter(store, wake), found.count, found.repeats, found.problem)


def faults_to(inbox: Inbox) -> Callable[[str, str], None]:
    """A part's fault report as an event: the frame loop logs, counts and shows it."""
    return lambda kind, message: inbox.put(Fault(kind, message))


def worker_for(
    show: Show,
    next_variation: Callable[[Faces], Variation] | None,
    report: Callable[[str, str], None] | None = None,
    wake: threading.Event | None = None,
) -> Worker:
    """The generation worker with the outcome cache in front: known throws are answered at
    once and the rest pre-rendered in the background; fresh seed mode looks ahead through
    the director (each outcome's next variation). A model that does not load is reported
    through `report` (the status errors) and tried again every minute. `wake`: set when the
    child sends something (the frame pacing's event: a result is taken at once)."""
    from installation.cache.cached_worker import with_cache
    from installation.engine_spec import spec_from_show
    from installation.worker.client import WorkerClient

    client = WorkerClient(
        spec_from_show(show),
        hang_timeout_s=show.engine.worker_timeout_s,
        report=report,
        wake=wake,
    )
    worker: Worker = with_cache(show, client, next_variation)
    return worker


def show_watcher(show: Show, inbox: Inbox) -> ShowWatcher:
    """Watches the show folder (rehearsal) and serves /installation/reload (always)."""

    def changed(result: Show | ShowError) -> None:
        change = watcher.last_change if isinstance(result, Show) else None
        inbox.put(ShowReloaded(result, change))

    watcher = ShowWatcher(show.folder, changed, initial=show)
    return watcher


def cues_for(show: Show) -> CueOut | None:
    if not show.osc.targets and not show.osc.heartbeat_s:
        return None
    from installation.osc.cues import CueSender

    return CueSender(list(show.osc.targets), heartbeat_s=show.osc.heartbeat_s)


def input_edges(show: Show, app: App) -> dict[str, InputEdge]:
    """Input edges that run in their own threads and only put events into the inbox."""
    edges: dict[str, InputEdge] = {}
    if show.osc.listen:
        from installation.osc.control import ControlServer

        edges["osc"] = ControlServer(
            show.osc.listen,
            list(show.osc.allow),
            app.inbox,
            app.snapshot,
            dice=show.dice.count,
            faces=show.dice.faces,
            reply_port=show.osc.reply_port,
        )
    if show.dice.ports and show.cluster.role != "follower":
        from installation.dice.serial import DiceLink

        d = show.dice
        edges["dice"] = DiceLink(
            list(d.ports),
            baud=d.baud,
            dice=d.count,
            settle_ms=d.settle_ms,
            throw_timeout_s=d.throw_timeout_s,
            silence_timeout_s=d.silence_timeout_s,
            inbox=app.inbox,
            faces=d.faces,
            every_die_must_move=d.every_die_must_move,
        )
    if show.projectors:
        from installation.ops.pjlink import ProjectorController

        status = app.status
        edges["projectors"] = ProjectorController(
            list(show.projectors),
            app.hours.schedule,
            on_fault=status.error if status is not None else None,
        )
    if show.web.listen:
        from installation.web.console import WebConsole

        edges["web"] = WebConsole(show.web.listen, show, app.inbox, app.snapshot)
    return edges
