"""Pictures and colours shared by the display tests."""

from __future__ import annotations

import numpy as np


def solid(rgb: tuple[int, int, int], w: int = 64, h: int = 64) -> np.ndarray:
    """An HxWx3 uint8 image of one colour."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :] = rgb
    return image


RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
