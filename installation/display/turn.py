"""Screens mounted sideways or upside down: the picture is laid out upright and turned.

A projector hung on its side, or a monitor turned to portrait without the desktop
knowing (kmsdrm has no rotation), shows the window's pixels turned. `rotation` (0, 90,
180, 270, degrees clockwise) turns what is drawn so it reads upright on such a screen:
slides are turned once when painted (slides.py), and the small things drawn over them
each frame go through `rect` and `surface` here, so no frame turns a whole screen
(that costs about 10 ms at 1080p, measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

ROTATIONS = (0, 90, 180, 270)


def set_alpha(surface: pygame.Surface, alpha: int | None) -> None:
    """surface.set_alpha, except that 255 on a surface without an alpha channel turns the
    surface alpha off: SDL 2.32 blits an RGB surface with an alpha of 255 on its generic
    slow path, 45 ms at 1920x1080 against 0.7 ms for the copy it amounts to (measured with
    pygame-ce 2.5.8: the last frame of every crossfade took three frames)."""
    if alpha is not None and alpha >= 255 and not surface.get_masks()[3]:
        alpha = None
    surface.set_alpha(alpha)


@dataclass(frozen=True)
class Turn:
    """`rotation` degrees clockwise on a window of `size` (width, height) pixels."""

    rotation: int
    size: tuple[int, int]

    def __post_init__(self) -> None:
        if self.rotation not in ROTATIONS:
            raise ValueError(f"rotation {self.rotation!r}: use one of 0, 90, 180, 270")

    @property
    def upright(self) -> tuple[int, int]:
        """The size of the picture as the visitor sees it (swapped for 90 and 270)."""
        w, h = self.size
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def surface(self, upright: pygame.Surface) -> pygame.Surface:
        """An upright surface turned for the window (the same surface at 0 degrees)."""
        if self.rotation == 0:
            return upright
        return pygame.transform.rotate(upright, -self.rotation)  # pygame turns anticlockwise

    def rect(self, rect: pygame.Rect) -> pygame.Rect:
        """Where an upright rectangle lands in the window."""
        uw, uh = self.upright
        x, y, w, h = rect
        if self.rotation == 90:
            return pygame.Rect(uh - y - h, x, h, w)
        if self.rotation == 180:
            return pygame.Rect(uw - x - w, uh - y - h, w, h)
        if self.rotation == 270:
            return pygame.Rect(y, uw - x - w, h, w)
        return pygame.Rect(x, y, w, h)


class TurnedCanvas:
    """What the cue layer draws on: upright coordinates, drawn turned into the window.

    Turned copies of the overlay surfaces are kept per surface (they change rarely); the
    breathing invitation's alpha is copied to its turned copy on every blit.
    """

    def __init__(self, window: pygame.Surface, turn: Turn) -> None:
        self.window = window
        self.turn = turn
        self._turned: dict[int, tuple[pygame.Surface, pygame.Surface]] = {}

    def get_size(self) -> tuple[int, int]:
        return self.turn.upright

    def blit(self, surface: pygame.Surface, pos: tuple[int, int] | pygame.Rect) -> None:
        rect = surface.get_rect(topleft=(pos[0], pos[1]))
        if self.turn.rotation == 0:
            self.window.blit(surface, rect)
            return
        kept = self._turned.get(id(surface))
        if kept is None or kept[0] is not surface:
            kept = (surface, self.turn.surface(surface))
            self._turned[id(surface)] = kept
            if len(self._turned) > 16:  # old overlays: drop all but this one
                self._turned = {id(surface): kept}
        turned = kept[1]
        set_alpha(turned, surface.get_alpha())
        self.window.blit(turned, self.turn.rect(rect))

    def circle(self, colour: tuple[int, int, int], centre: tuple[int, int], radius: int) -> None:
        box = self.turn.rect(pygame.Rect(centre[0], centre[1], 1, 1))
        pygame.draw.circle(self.window, colour, box.topleft, radius)
