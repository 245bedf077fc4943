"""A failed start leaves nothing running: no thread, child process, socket or window."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pygame
import pytest

from installation.app import App, RunOptions
from installation.app.inbox import Inbox
from installation.display.kiosk import Kiosk
from installation.engines.engine import EngineSpec
from installation.osc.control import ControlServer
from installation.osc.cues import CueSender
from installation.show.load import load_show
from installation.show.schema import OscTarget, Show
from installation.worker.client import WorkerClient
from tests import shows
from tests.waiting import poll
from tests.worker import engines_for_tests as engines


class Broken(Exception):
    pass


class BrokenEdge:
    """An input edge whose start fails, as a busy port or a missing device would."""

    def __init__(self) -> None:
        self.stopped = False

    def start(self) -> None:
        raise Broken("this edge cannot start")

    def stop(self) -> None:  # never started: must not be stopped either
        self.stopped = True

    def status(self) -> dict[str, object]:
        return {}


def write_show(folder: Path, osc_listen: str = "") -> Show:
    shows.write_show(folder, show={"name": "unwind"}, osc={"listen": osc_listen})
    return load_show(folder)


def open_sockets() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # the listing's own fd, closed meanwhile
            continue
        if target.startswith("socket:"):
            out.add(target)
    return out


def test_a_failing_edge_stops_every_started_part(tmp_path: Path) -> None:
    show = write_show(tmp_path / "show")
    threads_before = set(threading.enumerate())
    sockets_before = open_sockets()
    kiosk = Kiosk(show.display, dice=2, faces=6)
    worker = WorkerClient(EngineSpec(factory=f"{engines.__name__}:behaving"), hang_timeout_s=30)
    cues = CueSender([OscTarget(name="sound", host="127.0.0.1", port=9)], heartbeat_s=0)
    control = ControlServer("127.0.0.1:0", [], Inbox(), dict, dice=2, faces=6)
    broken = BrokenEdge()
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=worker,
        cues=cues,
        edges={"osc": control, "broken": broken},
    )
    with pytest.raises(Broken):
        app.start()
    assert not broken.stopped  # only what started is stopped
    assert not pygame.display.get_init() or pygame.display.get_surface() is None  # no window
    assert poll(lambda: not multiprocessing.active_children()), "the worker child lives on"
    assert poll(lambda: set(threading.enumerate()) <= threads_before), [
        t.name for t in set(threading.enumerate()) - threads_before
    ]
    assert open_sockets() <= sockets_before
    assert not app.running
