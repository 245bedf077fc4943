"""A picture's way to the wall, with real parts: a present whose slide is being painted
ahead waits for it (no second painting), a picture waiting for the disk is painted
meanwhile, the archive wakes the frame loop when a picture's write begins and when it is
safe, and the status shows where the newest live image spent its time."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
import pygame
import pytest

from installation.app import RunOptions
from installation.app.build import build_app
from installation.app.presenter import Presenter
from installation.core import events as ev
from installation.core.dice import Throw
from installation.core.variations import RenderParams, Variation
from installation.display.fake import FakeKiosk
from installation.display.kiosk import Kiosk
from installation.display.label import LabelInfo
from installation.display.slides import SlideJob, render_slide
from installation.show.load import load_show
from installation.show.schema import Show
from installation.storage.archive import Archive
from installation.storage.journal import Saved
from installation.worker.replies import Result
from tests.shows import write_show
from tests.waiting import wait_until

DEADLINE_S = 10.0
RED = (255, 0, 0)
PARAMS = RenderParams(strength=0.5, steps=2, guidance=1.0, width=64, height=64)


@pytest.fixture(autouse=True)
def headless_sdl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


def make_show(tmp_path: Path, label: bool = True) -> Show:
    folder = tmp_path / "show"
    folder.mkdir(exist_ok=True)
    (folder / "show.toml").write_text(
        f"""
[show]
name = "stages"
[dice]
count = 2
faces = 6
[variations]
prompt = "flat"
width = 64
height = 64
engine = "fallback"
[display]
fullscreen = false
window_size = [160, 120]
fit = "contain"
transition_ms = 0
label = {str(label).lower()}
[osc]
listen = ""
[cache]
memory_mb = 0
disk_mb = 0
""",
        "utf-8",
    )
    return load_show(folder)


def centre(kiosk: Kiosk) -> tuple[int, ...]:
    pixels = kiosk.read_pixels()
    h, w = pixels.shape[:2]
    return tuple(int(v) for v in pixels[h // 2, w // 2])


def painting_kiosk(show: Show, render: object) -> Kiosk:
    kiosk = Kiosk(show.display, dice=2, faces=6)
    kiosk.open()
    kiosk.desk.close()
    kiosk.desk.start(kiosk.pacer.wake.set, render=render)  # type: ignore[arg-type]
    return kiosk


def test_a_present_waits_for_its_slide_being_painted_ahead_instead_of_painting_again(
    tmp_path: Path,
) -> None:
    show = make_show(tmp_path)
    began, release = threading.Event(), threading.Event()
    painted: list[str] = []

    def render(job: SlideJob) -> pygame.Surface:
        painted.append(job.kind)
        if job.kind == "prepare":
            began.set()
            assert release.wait(DEADLINE_S)
        return render_slide(job)

    kiosk = painting_kiosk(show, render)
    try:
        kiosk.set_state("presenting")
        label = LabelInfo((1, 1), "Variation 7")
        image = np.full((64, 64, 3), RED, np.uint8)
        kiosk.prepare(image, label)
        assert began.wait(DEADLINE_S)
        kiosk.present(image.copy(), label)  # other array, same pixels, while being painted
        assert kiosk.painting_present() and kiosk.presents_placed == 0
        release.set()
        assert kiosk.wait_ready(DEADLINE_S)
        assert kiosk.presents_placed == 1 and painted == ["prepare"]
        kiosk.frame()
        assert centre(kiosk) == RED
        slide = kiosk.desk.last_present
        assert slide is not None and not slide.ahead
        assert slide.began < slide.asked <= slide.handed  # painting began before present()
        assert slide.began < slide.painted <= slide.handed
    finally:
        kiosk.close()


def test_the_archive_wakes_the_frame_loop_when_a_picture_is_safe(tmp_path: Path) -> None:
    wake = threading.Event()
    archive = Archive(
        tmp_path / "archive", show_name="t", max_files=10, max_mb=10, storage=tmp_path, wake=wake
    )
    archive.start()
    try:
        v = Variation((1, 1), "1-1", 1, 1234, "flat", "", PARAMS)
        ticket = archive.save(np.zeros((64, 64, 3), np.uint8), v, engine="test")
        assert wake.wait(DEADLINE_S), "beginning the write did not wake the frame loop"
        assert ticket.writing  # the slide may be painted now, while the disk writes
        for _ in range(2):  # and once more when it is settled
            wake.clear()
            if ticket.settled:
                break
            assert wake.wait(DEADLINE_S), "settling a picture did not wake the frame loop"
        assert ticket.settled and ticket.ok
    finally:
        archive.stop()


def test_the_status_shows_where_the_newest_live_image_spent_its_time(tmp_path: Path) -> None:
    show = make_show(tmp_path, label=False)
    app = build_app(show, RunOptions())
    app.start()
    try:
        wait_until(lambda: app.worker.ready, 60, "the worker child", step=app.step)
        assert "last_image" not in app.sections()
        app.inbox.put(ev.ThrowCommitted(Throw((2, 5))))
        wait_until(lambda: app.kiosk.presents_placed, 30, "the picture", step=app.step)
        figures = app.sections()["last_image"]
        assert set(figures) == {"to_child_ms", "render_ms", "from_child_ms", "held_ms"}
        assert all(math.isfinite(v) and v >= 0 for v in figures.values()), figures
        trace = app.presenter.last_trace
        assert trace is not None and trace.taken <= trace.presented <= trace.shown
    finally:
        app.stop()


class HeldArchive:
    """An archive whose one ticket the test moves: taken, writing, settled."""

    def __init__(self) -> None:
        self.ticket = Saved(True)

    def save(self, image: object, variation: object, **kw: object) -> Saved:
        return self.ticket

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def test_a_picture_waiting_for_the_disk_is_painted_once_its_write_has_begun(
    tmp_path: Path,
) -> None:
    """Not before (the journal thread's own work would wait for the GIL behind the
    painter), once, and up as soon as it is settled; without an archive nothing waits and
    nothing is painted ahead."""
    write_show(tmp_path / "show")
    show = load_show(tmp_path / "show" / "show.toml")
    screen, archive = FakeKiosk(show.display), HeldArchive()
    screen.open()
    presenter = Presenter(show, screen, fault=lambda k, m: None, wall=time.time, archive=archive)
    v = Variation((1, 2), "1-2", 3, 1234, "flat", "", PARAMS)
    image = np.full((64, 64, 3), 7, np.uint8)
    presenter.present(Result(v, image, "test", 1.0), 0.0)
    presenter.due(0.01)
    assert screen.prepared == [] and screen.presents == []  # taken, not yet being written
    archive.ticket.writing = True
    presenter.due(0.02)
    presenter.due(0.03)
    assert len(screen.prepared) == 1 and np.array_equal(screen.prepared[0][0], image)
    assert screen.presents == []  # not on disk yet
    archive.ticket.settle()
    presenter.due(0.04)
    assert len(screen.presents) == 1 and len(screen.prepared) == 1
    assert screen.prepared[0][1] == screen.presents[0][1]  # the same label

    straight = Presenter(show, screen, fault=lambda k, m: None, wall=time.time)
    straight.present(Result(v, image, "test", 1.0), 0.0)
    assert len(screen.presents) == 2 and len(screen.prepared) == 1
