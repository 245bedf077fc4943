"""The painting's shape: what size each variation is generated at.

When [variations] width and height are left out, each painting's variations take its
aspect at about the model's native pixel count (512x512 for Stable Diffusion 1.x, the
UNet's sample_size x 8 when the model folder says so), in multiples of 8: a 4:3 painting
gives 4:3 variations, nothing is cropped, and the wall keeps its shape between the
attract screen and a throw. When they are set, every variation has that size and a
painting of another aspect is centre-cropped to it: `shape_notes` says what is cut
(`installation validate` prints it as a warning).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installation.show.schema import Show

DEFAULT_NATIVE = 512
MIN_SIDE, MAX_SIDE = 64, 2048
_SWAPPED = (5, 6, 7, 8)  # EXIF orientations that turn the picture by 90 degrees


@functools.lru_cache(maxsize=64)
def _size_of(path: str, stamp: tuple[int, int]) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            if im.getexif().get(0x0112) in _SWAPPED:  # load_rgb applies the EXIF turn
                w, h = h, w
    except Exception:  # the path rules report unreadable paintings
        return None
    return (w, h) if w > 0 and h > 0 else None


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) as the painting is shown (EXIF orientation applied); None: unreadable.
    Only the header is read; cached per file version."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return _size_of(str(path), (st.st_mtime_ns, st.st_size))


def native_side(show: Show) -> int:
    """The side of the model's native square: sample_size x 8 from its UNet config when the
    model is a diffusers folder that says so, else 512."""
    model = show.variations.model
    if model is None:
        return DEFAULT_NATIVE
    config = show.resolve(model) / "unet" / "config.json"
    try:
        sample = json.loads(config.read_text(encoding="utf-8"))["sample_size"]
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_NATIVE
    if isinstance(sample, int) and 8 <= sample <= MAX_SIDE // 8:
        return sample * 8
    return DEFAULT_NATIVE


def size_for_aspect(aspect: float, native: int) -> tuple[int, int]:
    """About native**2 pixels at `aspect` (width / height), each side a multiple of 8."""
    aspect = min(max(aspect, MIN_SIDE / MAX_SIDE), MAX_SIDE / MIN_SIDE)
    root = math.sqrt(aspect)
    w = min(MAX_SIDE, max(MIN_SIDE, round(native * root / 8) * 8))
    h = min(MAX_SIDE, max(MIN_SIDE, round(native / root / 8) * 8))
    return w, h


def _side(n: float) -> int:
    return min(MAX_SIDE, max(MIN_SIDE, round(n / 8) * 8))


def generation_sizes(show: Show) -> tuple[tuple[int, int], ...]:
    """One (width, height) per painting (at least one): the set size, or the painting's."""
    v = show.variations
    native = native_side(show)
    square = (v.width or native, v.height or native)
    if v.width is not None and v.height is not None:
        return (square,)
    sizes = []
    for painting in show.artwork.paintings or ():
        size = image_size(show.resolve(painting))
        if size is None:
            sizes.append(square)
            continue
        aspect = size[0] / size[1]
        w, h = size_for_aspect(aspect, native)
        if v.width is not None:  # one side set: the other follows the painting's aspect
            w, h = v.width, _side(v.width / aspect)
        elif v.height is not None:
            w, h = _side(v.height * aspect), v.height
        sizes.append((w, h))
    return tuple(sizes) or (square,)


def shape_notes(show: Show) -> list[str]:
    """Warnings for a set width/height that crops a painting of another aspect."""
    v = show.variations
    if v.width is None or v.height is None:
        return []
    notes = []
    for painting in show.artwork.paintings:
        size = image_size(show.resolve(painting))
        if size is None:
            continue
        pw, ph = size
        ours, theirs = v.width / v.height, pw / ph
        if abs(ours / theirs - 1) < 0.02:
            continue
        if theirs > ours:  # the painting is wider: its sides are cut
            kept = ours / theirs
            cut = f"{(1 - kept) * 50:.0f}% of its width is cut on the left and on the right"
        else:
            kept = theirs / ours
            cut = f"{(1 - kept) * 50:.0f}% of its height is cut at the top and at the bottom"
        notes.append(
            f"variations.width/height {v.width}x{v.height} ({ours:.3g}:1) crops painting "
            f"{painting} ({pw}x{ph}, {theirs:.3g}:1): {cut}; leave width and height out to "
            f"follow the painting's shape"
        )
    return notes
