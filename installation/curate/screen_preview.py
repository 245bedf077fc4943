"""`installation preview --screen WxH`: the whole screen as the wall shows it, label included.

The same slide the kiosk paints (display/slides.render_slide: fit, letterbox, background,
label with its corner, size and font, rotation, upscale) at the asked screen size, made
with pygame surfaces only (no window, no display needed). With [[screens]] the settings
are those of the first screen showing the variation.
"""

from __future__ import annotations

import os
import re

import numpy as np

from installation.core.variations import Variation
from installation.errors import CurateError
from installation.show.schema import DisplaySection, Show

MIN_SIDE, MAX_SIDE = 64, 16384
_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


def parse_screen(text: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080), each side 64..16384."""
    m = _SIZE.match(text)
    if not m:
        raise CurateError(f"--screen {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080 or 1080x1920")
    w, h = int(m.group(1)), int(m.group(2))
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise CurateError(
            f"--screen {text!r}: each side must be {MIN_SIDE} to {MAX_SIDE} pixels, e.g. 1920x1080"
        )
    return w, h


def screen_settings(show: Show) -> DisplaySection:
    """[display], or with [[screens]] the first variation screen's settings."""
    from installation.show.schema_screens import resolved_display

    display = resolved_display(show)
    for i, entry in enumerate(show.screens):
        if entry.content == "variation":
            from installation.display.wall import screen_config

            return screen_config(display, entry, i, show.folder)
    return display


def screen_picture(
    show: Show, variation: Variation, image: np.ndarray, engine: str, size: tuple[int, int]
) -> np.ndarray:
    """HxWx3 RGB: what a screen of `size` (width, height) shows for this variation."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    from installation.display.label import LabelStyle, clear_font_cache, fill_label
    from installation.display.slides import SlideJob, SlideStyle, render_slide
    from installation.display.window import parse_colour

    config = screen_settings(show)
    colour = parse_colour(config.background)
    info, _ = fill_label(show, variation, engine)
    style = SlideStyle(
        size,
        32,
        (0xFF0000, 0xFF00, 0xFF, 0),
        config.fit,
        (colour.r, colour.g, colour.b),
        config.label,
        show.show.title,
        show.show.artist,
        LabelStyle(
            config.label_corner,
            config.label_size,
            str(config.label_font) if config.label_font else None,
        ),
        config.rotation,
        config.upscale,
    )
    pygame.font.init()
    try:
        job = SlideJob(
            "last", "present", np.ascontiguousarray(image), info, info is not None, style
        )
        slide = render_slide(job)
        return np.ascontiguousarray(pygame.surfarray.array3d(slide).swapaxes(0, 1))
    finally:
        clear_font_cache()
        pygame.font.quit()
