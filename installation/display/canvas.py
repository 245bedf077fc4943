"""Slides as surfaces, and blank ones made ahead so a picture's slide starts half done.

A new 1080p slide is an 8 MB surface: allocating it and filling its background took
~1.7 ms here when the allocator reused freed memory, and 4.3-6.2 ms on memory the process
had not touched before (the kernel faulting in and zeroing 2,000 pages: the first painting
of each outcome, while the prepared slides grow), all of it holding the GIL, so a
picture's journal write and the frame loop waited behind it. So the slide painter makes
the next slide's blank canvas while it is idle (BLANK_AFTER_S after its last job), in the
look it painted last; a job of that look takes it and paints only the picture and the
label. One canvas at a time: a screen's worth of memory. BLANK_AFTER_S is short so that
throws a few tenths of a second apart still find one (benchmark 1's throws come ~0.15 s
apart: at 0.3 s no canvas was ever ready); a job that arrives while a canvas is being
made waits at most that making, which it would otherwise have paid itself.
"""

from __future__ import annotations

import pygame

BLANK_AFTER_S = 0.05  # idle this long, the painter makes the next blank canvas

# what a canvas is made of: size, bits per pixel, masks, background
Look = tuple[tuple[int, int], int, tuple[int, int, int, int], tuple[int, int, int]]


class Slide(pygame.Surface):
    """A painted slide that knows where it is not plain background: `content`, rectangles in
    window coordinates (None: anywhere). A fade between two slides of one background only
    needs to blend there (layers.py)."""

    background: tuple[int, int, int] | None = None
    content: tuple[pygame.Rect, ...] | None = None


def plain_slide(size: tuple[int, int], colour: pygame.Color, like: pygame.Surface) -> Slide:
    """A slide of one colour in `like`'s pixel format (black, the standby without a poster)."""
    slide = Slide(size, 0, like)
    slide.fill(colour)
    slide.background, slide.content = (colour.r, colour.g, colour.b), ()
    return slide


class Canvases:
    """The painter thread's blank canvas (one thread uses it; not locked)."""

    def __init__(self) -> None:
        self._want: Look | None = None  # the look painted last
        self._blank: tuple[Look, Slide] | None = None
        self.used = 0  # slides painted on a canvas made ahead

    def take(self, look: Look) -> Slide | None:
        """The blank canvas of this look, filled with its background; None if there is none
        (then one is made when the painter is next idle)."""
        self._want = look
        if self._blank is None or self._blank[0] != look:
            return None
        blank, self._blank = self._blank[1], None
        self.used += 1
        return blank

    @property
    def wanted(self) -> bool:
        """A canvas of the look painted last is missing."""
        return self._want is not None and (self._blank is None or self._blank[0] != self._want)

    def make(self) -> None:
        """Make the missing canvas (the painter is idle)."""
        if not self.wanted or self._want is None:
            return
        size, depth, masks, background = self._want
        self._blank = None  # one screen's worth at a time
        blank = Slide(size, 0, depth, masks)
        blank.fill(background)
        self._blank = (self._want, blank)
