"""The show's pictures after a live reload: read off the frame thread, then put up.

A real show folder, the real watcher and reloader, the fake kiosk: a painting replaced on
disk reaches attract, a poster saved over in place and a new standby_image reach standby
(a removed one turns it black),
and the frame loop never waits for a picture being read.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from installation.app.app import App
from installation.app.inbox import Inbox
from installation.app.parts import RunOptions
from installation.app.pictures import PictureLoader, Pictures
from installation.app.reloader import Reloader
from installation.core.events import ShowReloaded
from installation.display.fake import FakeKiosk
from installation.show.load import load_show
from installation.show.schema import Show
from installation.show.watch import ShowWatcher
from installation.worker.fake import FakeWorker
from tests import shows
from tests.waiting import wait_until

RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 200, 30)


def png(path: Path, colour: tuple[int, int, int]) -> None:
    """As an editor saves: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp.png")
    Image.new("RGB", (16, 12), colour).save(tmp)
    tmp.replace(path)


def colour(image: np.ndarray | None) -> tuple[int, ...] | None:
    return None if image is None else tuple(int(v) for v in image[0, 0])


def test_a_replaced_painting_and_a_new_poster_reach_the_wall(tmp_path: Path) -> None:
    folder = tmp_path / "show"
    folder.mkdir()
    png(folder / "painting.png", RED)
    png(folder / "closed.png", GREEN)
    shows.write_show(
        folder,
        artwork={"paintings": ["painting.png"]},
        display={"standby_image": "closed.png"},
    )
    show = load_show(folder)
    inbox = Inbox()

    def changed(result: Any) -> None:
        inbox.put(ShowReloaded(result, watcher.last_change if isinstance(result, Show) else None))

    watcher = ShowWatcher(folder, changed, initial=show, quiet_ms=50)
    kiosk = FakeKiosk(show.display)
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=FakeWorker(),
        inbox=inbox,
        edges={"show-watcher": watcher},
        reloader=Reloader(watcher, inbox),
    )
    app.start()
    try:
        assert colour(kiosk.artwork) == RED and colour(kiosk.poster) == GREEN  # read at start
        assert watcher.armed.wait(10)
        png(folder / "painting.png", BLUE)
        wait_until(lambda: colour(kiosk.artwork) == BLUE, 15, "the new painting", step=app.step)
        assert colour(kiosk.poster) == GREEN  # re-read with the painting, unchanged
        png(folder / "closed.png", BLUE)  # the poster saved over in place: read again
        wait_until(lambda: colour(kiosk.poster) == BLUE, 15, "the repainted poster", step=app.step)
        png(folder / "open-soon.png", RED)
        text = (folder / "show.toml").read_text()
        (folder / "show.toml").write_text(text.replace('"closed.png"', '"open-soon.png"'))
        wait_until(lambda: colour(kiosk.poster) == RED, 15, "the new poster", step=app.step)
        text = (folder / "show.toml").read_text().replace('standby_image = "open-soon.png"', "")
        (folder / "show.toml").write_text(text)
        wait_until(lambda: kiosk.poster is None, 15, "standby to turn black", step=app.step)
        assert colour(kiosk.artwork) == BLUE
    finally:
        app.stop()


def test_the_loader_never_holds_its_caller_and_the_newest_request_wins(tmp_path: Path) -> None:
    shows.write_show(tmp_path / "a", show={"name": "a"})
    shows.write_show(tmp_path / "b", show={"name": "b"})
    shows.write_show(tmp_path / "c", show={"name": "c"})
    first, second, third = (load_show(tmp_path / n) for n in "abc")
    gate, reading, read = threading.Event(), threading.Event(), []

    def slow(show: Show) -> Pictures:
        reading.set()
        assert gate.wait(10)
        read.append(show.show.name)
        return Pictures(np.zeros((2, 2, 3), np.uint8), None, faults=[("t", show.show.name)])

    loader = PictureLoader(slow)
    loader.request(first)  # returns at once: the reader waits on the gate
    assert reading.wait(10)
    loader.request(second)
    loader.request(third)  # replaces `second`, which never started
    assert loader.take() is None  # nothing read yet, and no wait for it
    gate.set()
    assert loader.wait_idle(10)
    assert read == ["a", "c"]
    done = loader.take()
    assert done is not None and done.faults == [("t", "c")]  # the newest
    assert loader.take() is None
