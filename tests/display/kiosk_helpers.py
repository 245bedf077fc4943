"""Pictures, colours, the fake clock and the kiosk factory's type shared by the display
tests (import as tests.display.kiosk_helpers)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from installation.display.kiosk import Kiosk


def solid(rgb: tuple[int, int, int], w: int = 64, h: int = 64) -> np.ndarray:
    """An HxWx3 uint8 image of one colour."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :] = rgb
    return image


RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)

KioskFactory = Callable[..., Kiosk]


class FakeClock:
    """A clock the test moves by hand: fades and pulses are exact, nothing sleeps."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
