"""An alpha of 255 never reaches SDL on a surface without an alpha channel: SDL 2.32 blits
that on its generic slow path (45 ms for 1920x1080 against 0.7 ms for the copy it is,
measured), so the last frame of a crossfade, where the eased alpha rounds to 255 before
the fade ends, took three frames. Checked at each blit, as SDL sees the surfaces."""

from __future__ import annotations

from typing import Any

import pygame
import pytest

from installation.display.layers import PictureLayer
from installation.display.transitions import alpha_byte
from installation.display.turn import set_alpha

SIZE = (64, 48)


class BlitRecorder:
    """A screen that records the surface alpha of everything blitted onto it."""

    def __init__(self) -> None:
        self.alphas: list[int | None] = []

    def blit(self, surface: pygame.Surface, pos: Any) -> None:
        self.alphas.append(surface.get_alpha())


@pytest.fixture
def screen() -> pygame.Surface:
    pygame.display.init()
    yield pygame.display.set_mode(SIZE)
    pygame.display.quit()


def test_an_opaque_alpha_turns_surface_alpha_off_only_without_an_alpha_channel(
    screen: pygame.Surface,
) -> None:
    rgb = pygame.Surface(SIZE, 0, screen)
    per_pixel = pygame.Surface(SIZE, pygame.SRCALPHA)
    for surface in (rgb, per_pixel):
        set_alpha(surface, 200)
        assert surface.get_alpha() == 200
    set_alpha(rgb, 255)
    assert rgb.get_alpha() is None  # a plain copy
    set_alpha(per_pixel, 255)
    assert per_pixel.get_alpha() == 255  # None would switch its own alpha off too


@pytest.mark.parametrize("whole", [True, False])
def test_the_last_frame_of_a_fade_blits_the_new_slide_as_a_copy(
    screen: pygame.Surface, whole: bool
) -> None:
    layer = PictureLayer()
    layer.old, layer.new = pygame.Surface(SIZE, 0, screen), pygame.Surface(SIZE, 0, screen)
    layer.start, layer.duration_s = 0.0, 1.2
    end = next(t / 1000 for t in range(1000, 1200) if alpha_byte(layer.progress(t / 1000)) == 255)
    assert layer.progress(end) < 1.0  # still fading, at an alpha byte of 255
    layer.drawn = (layer.new, layer.old, alpha_byte(layer.progress(end)))
    recorder = BlitRecorder()
    area = layer.new.get_rect() if whole else pygame.Rect(8, 8, 16, 16)
    layer.restore(recorder, area)  # type: ignore[arg-type]
    assert recorder.alphas and 255 not in recorder.alphas
