"""Updating only some rectangles of a pygame.Window (a Wall's screens).

pygame-ce 2.5's `Window.flip()` copies the whole window surface to the screen; only the
display module's window has `pygame.display.update(rects)`. On X11 a whole 1080p window
costs 2-6 ms per flip, so a breathing cue would flip every screen of a Wall whole on
every frame. SDL itself has SDL_UpdateWindowSurfaceRects: this calls it through ctypes,
in the very SDL library pygame loaded (found in /proc/self/maps, so never a second copy),
for the window pygame made (SDL_GetWindowFromID). Where that is not possible (no
/proc, a statically linked SDL, a call failing) it falls back to `Window.flip()`, which
shows the same pixels, only at a higher cost.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Callable
from pathlib import Path

import pygame

log = logging.getLogger(__name__)


class _Rect(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]


@functools.cache
def _sdl() -> ctypes.CDLL | None:
    """pygame's own SDL 2 library, already loaded in this process; None if not found."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and Path(parts[5]).name.startswith("libSDL2-"):
            try:
                lib = ctypes.CDLL(parts[5])
                lib.SDL_GetWindowFromID.restype = ctypes.c_void_p
                lib.SDL_GetWindowFromID.argtypes = [ctypes.c_uint32]
                lib.SDL_UpdateWindowSurfaceRects.restype = ctypes.c_int
                rects = ctypes.POINTER(_Rect)
                lib.SDL_UpdateWindowSurfaceRects.argtypes = [ctypes.c_void_p, rects, ctypes.c_int]
            except (OSError, AttributeError):
                return None
            return lib
    return None


def rect_updater(window: pygame.Window) -> Callable[[list[pygame.Rect]], None]:
    """A function showing only these rectangles of `window`'s surface (Window.flip() where
    SDL cannot be reached)."""
    lib = _sdl()
    handle = lib.SDL_GetWindowFromID(window.id) if lib is not None else None
    if lib is None or not handle:
        log.info(
            "window %s: no SDL_UpdateWindowSurfaceRects; cues flip the whole window", window.id
        )
        return lambda rects: window.flip()

    def update(rects: list[pygame.Rect]) -> None:
        w, h = window.size
        clipped = [c for c in (r.clip(0, 0, w, h) for r in rects) if c.w and c.h]
        boxes = (_Rect * len(clipped))(*(_Rect(r.x, r.y, r.w, r.h) for r in clipped))
        if lib.SDL_UpdateWindowSurfaceRects(handle, boxes, len(boxes)) != 0:
            window.flip()  # e.g. the surface was invalidated by a resize: flip() raises why

    return update
