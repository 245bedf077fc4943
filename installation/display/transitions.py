"""Crossfade, layout and timing maths as pure code, testable without pygame.

The kiosk asks these for "how far is the fade at time t", "how strong is the
attract pulse now", "where does a WxH picture go on this screen", "is this
array a picture" and "how smooth were the last frames"; it only does the blitting.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from installation.errors import BadImage


def to_rgb(image: object) -> np.ndarray:
    """Validate an image as HxWx3 uint8 RGB. Greyscale HxW and RGBA are accepted and converted."""
    if not isinstance(image, np.ndarray):
        raise BadImage(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise BadImage(f"image dtype is {image.dtype}; the kiosk shows uint8 (0..255) arrays")
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or 0 in image.shape:
        raise BadImage(
            f"image shape is {image.shape}; expected HxWx3 (RGB), HxWx4 (RGBA) or HxW (grey)"
        )
    return np.ascontiguousarray(image[:, :, :3])


def ease_in_out(x: float) -> float:
    """Smoothstep ease: 0 -> 0, 0.5 -> 0.5, 1 -> 1, gentle at both ends (no visible jolt)."""
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def fade_progress(start: float, duration_s: float, now: float) -> float:
    """Eased progress 0..1 of a fade that began at `start`. A zero duration is a cut (1.0)."""
    if duration_s <= 0:
        return 1.0
    return ease_in_out((now - start) / duration_s)


def alpha_byte(progress: float) -> int:
    """Progress 0..1 as a surface alpha 0..255."""
    return max(0, min(255, round(progress * 255)))


def pulse(t: float, period_s: float, low: float, high: float) -> float:
    """A slow breathing value between low and high (starts at low), for the invitation."""
    if period_s <= 0:
        return high
    phase = 0.5 - 0.5 * math.cos(2 * math.pi * (t % period_s) / period_s)
    return low + (high - low) * phase


@dataclass(frozen=True)
class Fit:
    """How to place a picture: crop this source rectangle, scale it to `size`, put it at `pos`."""

    crop: tuple[int, int, int, int]  # x, y, w, h in the source
    size: tuple[int, int]  # scaled width, height
    pos: tuple[int, int]  # top-left on the screen


def fit_picture(src: tuple[int, int], dst: tuple[int, int], mode: str) -> Fit:
    """Geometry for 'cover' (fill the screen, crop the overflow, centred) or 'contain'
    (whole picture, centred, letterboxed). Cropping before scaling keeps the one-off
    smoothscale as small as possible."""
    sw, sh = src
    dw, dh = dst
    if min(sw, sh, dw, dh) <= 0:
        raise ValueError(f"picture {src} and screen {dst} sizes must be positive")
    if mode == "cover":
        scale = max(dw / sw, dh / sh)
        cw, ch = min(sw, round(dw / scale)), min(sh, round(dh / scale))
        crop = ((sw - cw) // 2, (sh - ch) // 2, max(1, cw), max(1, ch))
        return Fit(crop, (dw, dh), (0, 0))
    if mode == "contain":
        scale = min(dw / sw, dh / sh)
        w, h = max(1, round(sw * scale)), max(1, round(sh * scale))
        return Fit((0, 0, sw, sh), (w, h), ((dw - w) // 2, (dh - h) // 2))
    raise ValueError(f"fit {mode!r} is not known; use 'cover' or 'contain'")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list; 0.0 for an empty one."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class FrameTimes:
    """Frame pacing for the status: the last `window` frame intervals and the longest gap.

    Pure: the kiosk passes its clock reading at the start of every frame.
    """

    def __init__(self, window: int = 600) -> None:
        self.frames = 0
        self._intervals: deque[float] = deque(maxlen=window)
        self._last: float | None = None
        self.longest_gap = 0.0

    def tick(self, now: float) -> None:
        if self._last is not None:
            gap = max(0.0, now - self._last)
            self._intervals.append(gap)
            self.longest_gap = max(self.longest_gap, gap)
        self._last = now
        self.frames += 1

    def summary(self) -> dict[str, object]:
        """frames, fps over the window, p50/p99 frame ms, longest gap ms (since start)."""
        intervals = list(self._intervals)
        total = sum(intervals)
        return {
            "frames": self.frames,
            "fps": round(len(intervals) / total, 1) if total > 0 else 0.0,
            "frame_ms_p50": round(percentile(intervals, 50) * 1000, 2),
            "frame_ms_p99": round(percentile(intervals, 99) * 1000, 2),
            "longest_gap_ms": round(self.longest_gap * 1000, 1),
        }
