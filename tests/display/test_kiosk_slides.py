"""Slides are painted off the main thread: present() returns at once, the newest wins,
the frame loop keeps showing the old picture meanwhile, and failures never reach the wall."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pygame
import pytest

from installation.display import slides
from installation.display.canvas import Canvases
from installation.display.label import LabelInfo
from installation.display.slides import SlideJob, SlideStyle, render_slide
from tests.display.kiosk_helpers import BLUE, GREEN, RED, FakeClock, KioskFactory, solid


class Gate:
    """Wraps render_slide: records what was painted and on which thread; can hold painting."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.open.set()
        self.started = threading.Event()
        self.painted: list[tuple[int, ...]] = []  # centre colour of each painted picture
        self.threads: list[str] = []
        self.fail = False

    def __call__(self, job: SlideJob, canvases: Canvases | None = None) -> pygame.Surface:
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.open.wait(10), "the test never opened the gate"
        h, w = job.image.shape[:2]
        self.painted.append(tuple(int(v) for v in job.image[h // 2, w // 2]))
        if self.fail:
            raise MemoryError("no room for a slide")
        return render_slide(job, canvases)

    def hold(self) -> None:
        self.open.clear()
        self.started.clear()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    monkeypatch.setattr(slides, "render_slide", g)
    yield g
    g.open.set()  # never leave the painter stuck when a test fails


def everywhere(pixels: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    return bool((pixels == rgb).all())


def test_present_returns_while_the_slide_is_painted_and_frames_go_on(
    make_kiosk: KioskFactory, gate: Gate
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    gate.hold()
    kiosk.present(solid(BLUE), None)  # would block here if painting were on this thread
    assert gate.started.wait(5)
    assert not kiosk.settled()
    for _ in range(3):
        kiosk.frame()
        assert everywhere(kiosk.read_pixels(), RED)  # the old picture stays up, no black frame
    gate.open.set()
    assert kiosk.wait_ready()
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), BLUE)
    assert kiosk.settled()
    assert set(gate.threads) == {"kiosk-slides"}  # never the main thread


def test_only_the_newest_present_is_shown(make_kiosk: KioskFactory, gate: Gate) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    gate.hold()
    kiosk.present(solid(RED), None)
    assert gate.started.wait(5)  # RED is being painted
    kiosk.present(solid(GREEN), None)  # queued, then replaced before it is painted
    kiosk.present(solid(BLUE), None)
    gate.open.set()
    assert kiosk.wait_ready()
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), BLUE)
    assert gate.painted == [RED, BLUE]  # GREEN was never painted
    assert kiosk.dropped_slides == 1  # RED was painted but never shown


def test_a_caller_reusing_its_array_does_not_change_the_present(
    make_kiosk: KioskFactory, gate: Gate
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    image = solid(RED)
    gate.hold()
    kiosk.present(image, None)
    image[:] = GREEN  # e.g. a buffer the engine reuses
    gate.open.set()
    assert kiosk.wait_ready()
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), RED)


def test_a_failed_slide_is_logged_and_the_wall_keeps_its_picture(
    make_kiosk: KioskFactory, gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    gate.fail = True
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), RED)
    assert "painting a present slide failed" in caplog.text
    gate.fail = False
    kiosk.present(solid(GREEN), None)  # the painter survived
    assert kiosk.wait_ready()
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), GREEN)


def test_settled_waits_for_the_fade(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(transition_ms=1000, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert not kiosk.settled()
    assert kiosk.wait_ready()
    kiosk.frame()
    assert not kiosk.settled()  # fading in
    clock.advance(1.0)
    assert kiosk.settled()


def test_the_fade_starts_when_the_slide_is_ready_not_when_asked(
    make_kiosk: KioskFactory, clock: FakeClock, gate: Gate
) -> None:
    kiosk = make_kiosk(transition_ms=1000, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    clock.advance(2)
    gate.hold()
    kiosk.present(solid(BLUE), None)
    clock.advance(0.6)  # painting took a while: the fade must not skip its first part
    gate.open.set()
    assert kiosk.wait_ready()
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), RED)


def test_attract_after_a_present_still_invites(
    make_kiosk: KioskFactory, gate: Gate, clock: FakeClock
) -> None:
    """The state changed while the slide was painted: as if it had been made at once."""
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_artwork(solid(GREEN))
    kiosk.set_state("presenting")
    assert kiosk.wait_ready()
    gate.hold()
    kiosk.present(solid(RED), None)
    kiosk.set_state("attract")
    gate.open.set()
    assert kiosk.wait_ready()
    clock.advance(1)
    kiosk.frame()
    pixels = kiosk.read_pixels()
    assert tuple(pixels[10, 10]) == GREEN  # attract shows the painting
    assert (pixels[150:200] != GREEN).any()  # with the invitation
    kiosk.set_state("standby")
    kiosk.set_state("presenting")  # back from standby: the last variation
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), RED)  # the variation was kept as the last one


def test_a_present_in_standby_is_kept_for_later(make_kiosk: KioskFactory, gate: Gate) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_state("standby")
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert not kiosk.read_pixels().any()
    kiosk.set_state("presenting")
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), RED)


def test_close_while_painting_is_clean_and_reopen_works(
    make_kiosk: KioskFactory, gate: Gate
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    gate.hold()
    kiosk.present(solid(RED), None)
    assert gate.started.wait(5)
    threading.Timer(0.05, gate.open.set).start()  # close() waits for the slide in hand
    kiosk.close()
    kiosk.open()
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert everywhere(kiosk.read_pixels(), BLUE)


@pytest.mark.parametrize("fit", ["cover", "contain"])
def test_slides_in_a_24_bit_format_look_the_same(fit: str) -> None:
    """Odd screen formats take the blit path; the picture must not change."""
    pygame.display.init()
    try:
        picture = np.zeros((40, 60, 3), np.uint8)
        picture[:, :30] = RED
        picture[:, 30:] = BLUE
        looks = []
        for depth, masks in [(32, (0xFF0000, 0xFF00, 0xFF, 0)), (24, (0xFF0000, 0xFF00, 0xFF, 0))]:
            style = SlideStyle((120, 120), depth, masks, fit, (9, 9, 9), False, "", "")
            slide = render_slide(SlideJob("last", "present", picture, None, False, style))
            assert slide.get_bitsize() == depth
            looks.append(pygame.surfarray.array3d(slide))
        assert np.abs(looks[0].astype(int) - looks[1]).max() <= 1
        x_y = looks[0]  # array3d is indexed [x, y]
        assert tuple(x_y[5, 60]) == RED and tuple(x_y[115, 60]) == BLUE
        letterboxed = tuple(x_y[60, 5]) == (9, 9, 9)  # above the picture, or the picture
        assert letterboxed == (fit == "contain")
    finally:
        pygame.display.quit()


def test_labels_are_painted_into_the_slide(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=True, window_size=(640, 480))
    kiosk.present(solid(RED), LabelInfo((3, 5), "Variation 12"))
    assert kiosk.wait_ready()
    kiosk.frame()
    corner = kiosk.read_pixels()[400:470, 10:300]
    assert ((corner == (255, 255, 255)).all(axis=2)).sum() > 200  # the white dice
