"""Reading the kiosk's screen back: pixels for tests and tools, PNG screenshots."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pygame

from installation.storage.atomic import write_atomic


def read_pixels(screen: pygame.Surface) -> np.ndarray:
    """The surface as HxWx3 uint8 RGB."""
    return np.ascontiguousarray(pygame.surfarray.array3d(screen).swapaxes(0, 1))


def screenshot(screen: pygame.Surface, path: str | Path) -> Path:
    """Save the surface as a PNG, atomically (the project's one write_atomic)."""
    target = Path(path)
    png = io.BytesIO()
    pygame.image.save(screen, png, "png")
    write_atomic(target, png.getvalue())
    return target
