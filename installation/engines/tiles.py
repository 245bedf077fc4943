"""Overlapping tiles and their feathered blend: how a picture larger than a model's
comfortable size is worked on piece by piece (engines/upscale.py) without seams.

Pure numpy, no torch. A picture of `length` pixels along an axis is covered by tiles of
`tile` pixels whose neighbours share at least `overlap` pixels, spread evenly from edge to
edge. Each tile's weight ramps linearly from near 0 to 1 across `overlap` pixels on every
side that has a neighbour (1 at the picture's edges), and the blend is the weighted mean,
so where tiles disagree a little (each is rendered with its own noise) the change is
spread over the overlap instead of a one-pixel step.
"""

from __future__ import annotations

import math

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


def spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of each tile along one axis: all `tile` long (one shorter tile when the
    axis is), neighbours sharing at least `overlap` pixels, the first at 0, the last at the end."""
    if length < 1 or tile < 1 or not 0 <= overlap < tile:
        raise ValueError(
            f"tiles need length >= 1, tile >= 1 and 0 <= overlap < tile; "
            f"got length {length}, tile {tile}, overlap {overlap}"
        )
    if length <= tile:
        return [(0, length)]
    n = 1 + math.ceil((length - tile) / (tile - overlap))
    starts = [round(i * (length - tile) / (n - 1)) for i in range(n)]
    return [(s, s + tile) for s in starts]


def tile_boxes(width: int, height: int, tile: int, overlap: int) -> list[Box]:
    """Every tile of a width x height picture, row by row."""
    return [
        (x0, y0, x1, y1)
        for y0, y1 in spans(height, tile, overlap)
        for x0, x1 in spans(width, tile, overlap)
    ]


def _ramp(start: int, end: int, length: int, overlap: int) -> np.ndarray:
    n = end - start
    w = np.ones(n, np.float32)
    ramp = min(overlap, n // 2)
    if ramp > 0:
        up = (np.arange(ramp, dtype=np.float32) + 0.5) / ramp
        if start > 0:
            w[:ramp] = np.minimum(w[:ramp], up)
        if end < length:
            w[n - ramp :] = np.minimum(w[n - ramp :], up[::-1])
    return w


def feather(box: Box, width: int, height: int, overlap: int) -> np.ndarray:
    """The (h, w) float32 weight of one tile: ramps on its inner sides, 1 elsewhere."""
    x0, y0, x1, y1 = box
    return np.outer(_ramp(y0, y1, height, overlap), _ramp(x0, x1, width, overlap))


class Blender:
    """Accumulates tiles as they are rendered (none is kept) into one HxWx3 uint8 picture."""

    def __init__(self, width: int, height: int, overlap: int) -> None:
        self.width, self.height, self.overlap = width, height, overlap
        self._sum = np.zeros((height, width, 3), np.float32)
        self._weight = np.zeros((height, width), np.float32)

    def add(self, box: Box, tile: np.ndarray) -> None:
        x0, y0, x1, y1 = box
        if tile.shape[:2] != (y1 - y0, x1 - x0):
            raise ValueError(f"tile of shape {tile.shape} does not fit box {box}")
        w = feather(box, self.width, self.height, self.overlap)
        self._sum[y0:y1, x0:x1] += tile.astype(np.float32) * w[..., None]
        self._weight[y0:y1, x0:x1] += w

    def result(self) -> np.ndarray:
        if not (self._weight > 0).all():
            raise ValueError("the tiles do not cover the picture")
        mean = self._sum / self._weight[..., None]
        return np.asarray(mean.round().clip(0, 255), dtype=np.uint8)
