"""Overlapping tiles and the feathered blend (engines/tiles.py), on synthetic pictures."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from installation.engines.tiles import Blender, spans, tile_boxes


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(64, 64, 8), (65, 32, 8), (200, 64, 16), (1000, 512, 64)]
)
def test_spans_cover_the_axis_and_share_at_least_the_overlap(
    length: int, tile: int, overlap: int
) -> None:
    s = spans(length, tile, overlap)
    assert s[0][0] == 0 and s[-1][1] == length
    assert all(b - a == min(tile, length) for a, b in s)
    for (_, end), (start, _) in itertools.pairwise(s):
        assert end - start >= overlap


@pytest.mark.parametrize(("length", "tile", "overlap"), [(0, 8, 0), (8, 8, 8), (8, 0, 0)])
def test_impossible_tiles_are_refused(length: int, tile: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="overlap < tile"):
        spans(length, tile, overlap)


def _smooth(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 200 / width, y * 200 / height, (x + y) * 100 / (width + height)], -1)


def test_tiles_that_agree_blend_back_to_the_picture_exactly() -> None:
    picture = _smooth(200, 136).round().astype(np.uint8)
    blender = Blender(200, 136, 16)
    for x0, y0, x1, y1 in tile_boxes(200, 136, 64, 16):
        blender.add((x0, y0, x1, y1), picture[y0:y1, x0:x1])
    assert np.array_equal(blender.result(), picture)


def _max_step(image: np.ndarray) -> float:
    a = image.astype(np.float32)
    return float(max(np.abs(np.diff(a, axis=0)).max(), np.abs(np.diff(a, axis=1)).max()))


def test_tiles_that_disagree_meet_without_a_seam() -> None:
    """Every tile is the picture plus its own offset of up to +-40 (as if rendered with its
    own noise): hard cuts would step by up to 80 at a border; the feathered blend spreads
    that over the overlap, so no step between neighbouring pixels exceeds a few levels."""
    width, height, tile, overlap = 256, 192, 64, 32
    picture = _smooth(width, height)
    rng = np.random.default_rng(3)
    blender, hard = Blender(width, height, overlap), np.zeros((height, width, 3))
    for x0, y0, x1, y1 in tile_boxes(width, height, tile, overlap):
        shifted = (picture[y0:y1, x0:x1] + rng.uniform(-40, 40)).clip(0, 255)
        blender.add((x0, y0, x1, y1), shifted)
        hard[y0:y1, x0:x1] = shifted
    smooth_step = _max_step(picture)
    assert _max_step(hard) > smooth_step + 20  # the case is hard enough to show a seam
    assert _max_step(blender.result()) <= smooth_step + 80 / overlap * 2 + 1


def test_a_tile_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit box"):
        Blender(64, 64, 8).add((0, 0, 32, 32), np.zeros((16, 32, 3), np.uint8))
