"""Blank canvases made ahead (display/canvas.py): a slide painted on one is the slide
painted fresh, pixel for pixel; one canvas of the look painted last, used once; the
painter makes it while idle and the next slide of that look is painted on it."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from installation.display.canvas import Canvases
from installation.display.label import LabelInfo
from installation.display.slides import SlideJob, SlidePainter, SlideStyle, render_slide
from tests.display.kiosk_helpers import BLUE, RED
from tests.waiting import poll

MASKS = (0xFF0000, 0xFF00, 0xFF, 0)


def job(
    picture: np.ndarray, fit: str = "contain", background: tuple[int, int, int] = (9, 9, 9)
) -> SlideJob:
    style = SlideStyle((160, 120), 32, MASKS, fit, background, True, "Title", "Artist")
    return SlideJob("last", "present", picture, LabelInfo((1, 2), "Variation 2"), True, style)


def two_colours(h: int, w: int) -> np.ndarray:
    picture = np.zeros((h, w, 3), np.uint8)
    picture[:, : w // 2] = RED
    picture[:, w // 2 :] = BLUE
    return picture


@pytest.fixture(autouse=True)
def display() -> object:
    pygame.display.init()
    pygame.font.init()
    yield None
    pygame.display.quit()


@pytest.mark.parametrize(
    ("fit", "shape"), [("contain", (64, 64)), ("contain", (40, 120)), ("cover", (64, 64))]
)
def test_a_slide_on_a_canvas_is_the_slide_painted_fresh(fit: str, shape: tuple[int, int]) -> None:
    picture = two_colours(*shape)
    fresh = pygame.surfarray.array3d(render_slide(job(picture, fit)))
    canvases = Canvases()
    assert render_slide(job(picture, fit), canvases) is not None and canvases.used == 0
    assert canvases.wanted
    canvases.make()
    assert not canvases.wanted
    on_canvas = render_slide(job(picture, fit), canvases)
    assert canvases.used == 1 and canvases.wanted  # used once; the next one is missing
    assert np.array_equal(pygame.surfarray.array3d(on_canvas), fresh)


def test_a_canvas_of_another_look_is_not_used() -> None:
    canvases = Canvases()
    render_slide(job(two_colours(64, 64)), canvases)
    canvases.make()
    other = render_slide(job(two_colours(64, 64), background=(200, 0, 0)), canvases)
    assert canvases.used == 0 and canvases.wanted  # wants the new look now
    assert tuple(pygame.surfarray.array3d(other)[2, 60]) == (200, 0, 0)  # its own letterbox
    canvases.make()
    render_slide(job(two_colours(64, 64), background=(200, 0, 0)), canvases)
    assert canvases.used == 1


def test_the_painter_makes_the_canvas_while_idle_and_paints_on_it() -> None:
    painter = SlidePainter()
    try:
        picture = two_colours(64, 64)
        painter.submit(job(picture))
        assert poll(lambda: not painter.canvases.wanted and painter.idle(), 10)
        assert painter.take()[0][1] is not None
        painter.submit(job(picture))
        assert poll(painter.take, 10)
        assert painter.canvases.used == 1
    finally:
        painter.close()
