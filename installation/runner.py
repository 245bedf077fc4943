"""`installation run`: load the show, build the real edges, run the app.

Edge construction lives here, apart from App, so tests can build an App with
fakes and the CLI stays thin.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
from pathlib import Path
from typing import Any

from installation.app import App, RunOptions
from installation.errors import DisplayError, ShowError
from installation.show.schema import Show

log = logging.getLogger("installation.run")


def build_app(show: Show, options: RunOptions) -> App:
    """Build every edge the show asks for. Parts that fail are logged; the wall still runs."""
    from installation.cache.cached_worker import with_cache
    from installation.display.kiosk import Kiosk
    from installation.engine_spec import spec_from_show
    from installation.ops.notify import Notifier
    from installation.ops.status import StatusBoard
    from installation.storage.archive import archive_for
    from installation.worker.client import WorkerClient

    display = show.display
    if options.window:
        display = display.model_copy(update={"fullscreen": False})
    if options.rehearsal:
        display = display.model_copy(update={"rehearsal_keys": True})
    kiosk = Kiosk(
        display,
        title=show.show.title,
        artist=show.show.artist,
        dice=show.dice.count,
        faces=show.dice.faces,
    )

    def make_worker(s: Show) -> Any:
        client = WorkerClient(spec_from_show(s), hang_timeout_s=s.engine.worker_timeout_s)
        return with_cache(s, client, app.director.next_variation)

    inbox: queue.Queue[Any] = queue.Queue()
    watcher = _watcher(show, inbox)
    app = App(
        show,
        options,
        kiosk=kiosk,
        worker=None,
        cues=_cues(show),
        status=StatusBoard(show=show.show.name),
        notifier=Notifier(),
        inbox=inbox,
        archive=archive_for(show),
        reloader=watcher,
        make_worker=make_worker,
        make_cues=_cues,
    )
    # the outcome cache answers known throws at once and pre-renders the rest in the background;
    # fresh seed mode looks ahead through the director (each outcome's next variation)
    app.worker = make_worker(show)
    if options.rehearsal:
        app.edges.append(watcher)  # saving show.toml applies within about a second
    if show.cluster.role != "none":
        from installation.cluster_sync import ClusterSync
        from installation.osc.cluster import ClusterLink

        link = ClusterLink.from_section(show.cluster, inbox)
        app.edges.append(link)
        app.cluster = ClusterSync(link)
        if show.cluster.role == "follower":
            app.options.auto_throw = None  # the leader owns the dice
    app.edges.extend(_edges(show, app, inbox))
    return app


def _watcher(show: Show, inbox: queue.Queue[Any]) -> Any:
    """Watches the show folder (rehearsal) and serves /installation/reload (always)."""
    from installation.core.events import ShowReloaded
    from installation.show.reload import ShowWatcher

    def changed(result: Any) -> None:
        change = watcher.last_change if isinstance(result, Show) else None
        inbox.put(ShowReloaded(result, change))

    watcher = ShowWatcher(show.folder, changed, initial=show)
    return watcher


def _cues(show: Show) -> Any:
    if not show.osc.targets and not show.osc.heartbeat_s:
        return None
    from installation.osc.cues import CueSender

    return CueSender(list(show.osc.targets), heartbeat_s=show.osc.heartbeat_s)


def _edges(show: Show, app: App, inbox: queue.Queue[Any]) -> list[Any]:
    """Input edges that run in their own threads and only put events into the inbox."""
    edges: list[Any] = []
    if show.osc.listen:
        from installation.osc.control import ControlServer

        edges.append(
            ControlServer(
                show.osc.listen,
                list(show.osc.allow),
                inbox,
                app.snapshot,
                dice=show.dice.count,
                faces=show.dice.faces,
                reply_port=show.osc.reply_port,
            )
        )
    if show.dice.ports and show.cluster.role != "follower":
        from installation.dice.serial import DiceLink

        d = show.dice
        edges.append(
            DiceLink(
                list(d.ports),
                baud=d.baud,
                dice=d.count,
                settle_ms=d.settle_ms,
                throw_timeout_s=d.throw_timeout_s,
                silence_timeout_s=d.silence_timeout_s,
                inbox=inbox,
                faces=d.faces,
                every_die_must_move=d.every_die_must_move,
            )
        )
    if show.projectors:
        from installation.ops.pjlink import ProjectorController

        edges.append(ProjectorController(list(show.projectors), app.schedule))
    return edges


def run(args: argparse.Namespace) -> int:
    from installation.ops.watchdog import enable_faulthandler
    from installation.show.load import load_show

    enable_faulthandler()  # a watchdog abort leaves every thread's stack in the journal

    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        show = load_show(args.show)
    except ShowError as e:
        for issue in e.issues:
            print(issue)
        print(f"{len(e.issues)} error(s): the show was not started.")
        return 2
    options = RunOptions(
        window=args.window or args.headless,
        rehearsal=args.rehearsal,
        exit_after=args.exit_after,
        screenshot_dir=Path(args.screenshot_dir) if args.screenshot_dir else None,
        auto_throw=args.auto_throw,
    )
    app = build_app(show, options)
    try:
        return app.run()
    except DisplayError as e:
        log.error("%s", e)
        return 3


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run a show on the wall")
    p.add_argument("show", help="show folder (or its show.toml)")
    p.add_argument("--window", action="store_true", help="a window instead of fullscreen")
    p.add_argument("--rehearsal", action="store_true", help="keyboard throws: 1-6 and space")
    p.add_argument("--headless", action="store_true", help="no screen: SDL's dummy driver")
    p.add_argument("--exit-after", type=float, metavar="SECONDS", help="stop after this long")
    p.add_argument("--screenshot-dir", metavar="DIR", help="save each variation as shown")
    p.add_argument("--auto-throw", type=float, metavar="SECONDS", help="a random throw every N s")
    p.set_defaults(func=run)
