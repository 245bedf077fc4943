"""The fallback engine: seeded procedural variations of the painting, CPU and numpy only.

It is the safety net when the AI model is missing, loading or broken, so it never
raises for a valid Variation and stays quick (a few tens of ms at 512x512 on one core).
A variation is the painting (or, without one, a procedural colour-field base) put
through a handful of operations whose parameters come from
numpy.random.default_rng(seed): a recomposition (mirror or band shifts), a smooth
displacement warp, a colour change (hue rotation, saturation, split toning) and a
brush-streak texture. `strength` scales how far each one departs from the painting.
The prompt's words bend each operation (engines/words.py): palette, light, composition
and brush follow words the engine knows, and every other word shifts hue and brightness
a little, so each die's words change the picture without a model.

Determinism: only elementwise float32 arithmetic, cumulative sums and gathers are used
on whole images (no BLAS, no transcendental functions on arrays), so the same seed gives
byte-identical output on the same numpy version. Archive images; do not count on
regenerating them across numpy releases.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image

from installation.core.variations import Variation
from installation.engines.images import enlarge, load_rgb
from installation.engines.words import Look, look_for
from installation.errors import EngineError

log = logging.getLogger(__name__)

ALGORITHM = "fallback-2"  # 2: the prompt's words change the picture
_CACHE_ENTRIES = 16
_MAX_SIDE = 8192
_UNSET = object()


class FallbackEngine:
    """Procedural CPU engine implementing the Engine protocol."""

    name = "fallback"

    def __init__(self, paintings: tuple[Path, ...] = ()) -> None:
        self.paintings = tuple(Path(p) for p in paintings)
        self._cache: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
        self._failed: dict[Path, object] = {}  # path -> file signature when it last failed
        self._broke = False

    def __repr__(self) -> str:
        return (
            f"<FallbackEngine paintings={len(self.paintings)} cached={len(self._cache)} "
            f"failed={len(self._failed)}>"
        )

    def describe(self) -> dict[str, str]:
        return {
            "engine": self.name,
            "algorithm": ALGORITHM,
            "numpy": np.__version__,
            "paintings": str(len(self.paintings)),
        }

    def render(self, variation: Variation) -> np.ndarray:
        """HxWx3 uint8 of variation.params.output_size(); never raises for a valid size."""
        w, h = _size(variation)
        out = variation.params.output_size()  # [upscale]: enlarged like the display would
        try:
            base = self._base(variation, w, h)
            look = look_for(variation.prompt)
            return enlarge(vary(base, variation.seed, variation.params.strength, look), out)
        except Exception:  # the safety net itself must not fail: flat colour, logged once
            if not self._broke:
                log.exception("fallback render failed for %s; showing a flat colour", variation.key)
                self._broke = True
            return _flat(variation.seed, *out)

    # -- the base image ------------------------------------------------------------------
    def _base(self, variation: Variation, w: int, h: int) -> np.ndarray:
        if self.paintings:
            index = variation.painting % len(self.paintings)
            painting = self._painting(index, w, h)
            if painting is not None:
                return painting
        return procedural_base(variation.seed, w, h)

    def _painting(self, index: int, w: int, h: int) -> np.ndarray | None:
        """The painting fitted to (w, h), loaded once per size; None if it cannot be read."""
        key = (index, w, h)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        path = self.paintings[index]
        signature = _signature(path)
        if self._failed.get(path, _UNSET) == signature:
            return None  # unchanged since it failed: do not retry or log again
        try:
            image = load_rgb(path, (w, h), fit="cover")
        except Exception as e:
            self._failed[path] = signature
            log.error("painting %d cannot be read (%s); using a procedural base instead", index, e)
            return None
        self._failed.pop(path, None)
        image.flags.writeable = False
        self._cache[key] = image
        while len(self._cache) > _CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return image


def _size(variation: Variation) -> tuple[int, int]:
    w, h = variation.params.width, variation.params.height
    for name, v in (("width", w), ("height", h)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= _MAX_SIDE:
            raise EngineError(f"variation {name} must be an integer 1..{_MAX_SIDE}, got {v!r}")
    return w, h


def _signature(path: Path) -> object:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _flat(seed: int, w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 99])
    colour = (rng.integers(40, 160, 3)).astype(np.uint8)
    return np.broadcast_to(colour, (h, w, 3)).copy()


# -- the variation operations ------------------------------------------------------------
def vary(base: np.ndarray, seed: int, strength: float, look: Look | None = None) -> np.ndarray:
    """A seeded variation of `base` (HxWx3 uint8); strength 0 keeps it, 1 departs most.
    `look` (from the prompt's words) bends palette, light, composition and brush.

    Pixels move as packed 32-bit words (recompose, warp) and colour goes through 256-entry
    tables per channel: few full-image passes, which is what keeps this fast on one core.
    """
    s = float(min(1.0, max(0.0, strength)))
    look = look or Look()
    rng = np.random.default_rng(seed)
    h, w = base.shape[:2]
    packed = _pack(base)
    packed = recompose(packed, rng, s, look.composition)
    packed = warp(packed, rng, s, look.flow)
    channels = packed.view(np.uint8).reshape(h, w, 4)
    tables = colour_tables(rng, s, look)
    factor = brush_factor(rng, s, h, w, look.brush, look.stroke)
    out = np.empty((h, w, 3), np.uint8)
    for c in range(3):
        acc = tables[c][0].take(channels[..., 0])
        acc += tables[c][1].take(channels[..., 1])
        acc += tables[c][2].take(channels[..., 2])
        acc *= factor
        acc += np.float32(0.5)
        np.clip(acc, 0, 255, out=acc)
        out[..., c] = acc
    return out


def _pack(image: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 as an HxW array of 32-bit words (RGB plus a pad byte): one word per pixel."""
    h, w = image.shape[:2]
    rgbx = np.zeros((h, w, 4), np.uint8)
    rgbx[..., :3] = image
    return rgbx.view(np.uint32).reshape(h, w)


def smooth_noise(rng: np.random.Generator, grid: tuple[int, int], h: int, w: int) -> np.ndarray:
    """Values in [-1, 1] on an (h, w) field: a random grid interpolated with smoothstep.

    Separable: interpolate the few grid rows across the width first, then blend rows.
    """
    gh, gw = grid
    g = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    y0, fy = _axis(gh, h)
    x0, fx = _axis(gw, w)
    across = g[:, x0] * (1 - fx) + g[:, x0 + 1] * fx  # (gh, w)
    out: np.ndarray = across[y0]
    out += (across[y0 + 1] - out) * fy[:, None]
    return out


def _axis(cells: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower grid index and smoothstepped fraction for n samples across `cells` points."""
    t = np.linspace(0, cells - 1, n, dtype=np.float32)
    i = np.minimum(t.astype(np.int64), cells - 2)
    f = t - i
    return i, (f * f * (3 - 2 * f)).astype(np.float32)


_KINDS = {"mirror": 0, "bands": 1, "columns": 2}


def recompose(
    img: np.ndarray, rng: np.random.Generator, s: float, force: str | None = None
) -> np.ndarray:
    """Now and then (more often with strength) mirror a half or slide bands of the picture;
    `force` (a word of the prompt) always does the one it names.

    Works on any HxW[xC] array; vary() passes packed pixels.
    """
    h, w = img.shape[:2]
    roll, kind = rng.random(), int(rng.integers(3))
    bands, side = int(rng.integers(3, 9)), rng.random()
    offsets = rng.uniform(-1, 1, bands) * max(s, 0.5 if force else 0.0) * 0.12
    if force in _KINDS:
        roll, kind = 0.0, _KINDS[force]
    if roll > s * 0.8 or min(h, w) < 8:
        return img
    if kind == 0:  # mirror: one half reflected onto the other, like a folded print
        out = img.copy()
        half = w // 2
        if side < 0.5:
            out[:, w - half :] = img[:, :half][:, ::-1]
        else:
            out[:, :half] = img[:, w - half :][:, ::-1]
        return out
    axis = 1 if kind == 1 else 0  # 1: horizontal bands slide sideways; 0: columns slide up/down
    length = img.shape[1 - axis]
    edges = np.linspace(0, length, bands + 1).astype(int)
    out = img.copy()
    for b in range(bands):
        sl = slice(edges[b], edges[b + 1])
        shift = round(float(offsets[b]) * img.shape[axis])
        if axis == 1:
            out[sl] = np.roll(img[sl], shift, axis=1)
        else:
            out[:, sl] = np.roll(img[:, sl], shift, axis=0)
    return out


def warp(pixels: np.ndarray, rng: np.random.Generator, s: float, flow: float = 1.0) -> np.ndarray:
    """Smooth displacement of an HxW pixel array: the painting flows as if the canvas were wet.

    Nearest-pixel sampling: the field is smooth, so neighbours stay neighbours, and the
    brush texture laid on top hides the odd doubled pixel.
    """
    h, w = pixels.shape[:2]
    grid = (int(rng.integers(3, 7)), int(rng.integers(3, 7)))
    amp = np.float32(s * 0.05 * min(h, w) * rng.uniform(0.5, 1.0) * flow)
    dy = smooth_noise(rng, grid, h, w)
    dx = smooth_noise(rng, grid, h, w)
    if amp < 0.5:
        return pixels
    dy *= amp
    dy += np.arange(h, dtype=np.float32)[:, None] + np.float32(0.5)
    dx *= amp
    dx += np.arange(w, dtype=np.float32)[None, :] + np.float32(0.5)
    rows = np.clip(dy, 0, h - 1).astype(np.intp)
    cols = np.clip(dx, 0, w - 1).astype(np.intp)
    rows *= w
    rows += cols
    out: np.ndarray = pixels.take(rows)
    return out


def colour_tables(
    rng: np.random.Generator, s: float, look: Look | None = None
) -> list[list[np.ndarray]]:
    """Per output channel, three 256-entry tables whose sum is the new colour (0..255).

    The colour change is affine in RGB - a hue rotation about the grey axis with a
    saturation change, plus split toning (a tint for shadows, another for highlights,
    mixed by luma) - so it folds exactly into lookups on the input bytes. The look's
    channel gains, brightness and contrast (about mid-grey) are affine too.
    """
    look = look or Look()
    angle = math.radians(float(rng.uniform(-1, 1)) * 160 * s + look.hue)
    saturation = 1 + s * float(rng.uniform(-0.5, 0.6))
    shadow = rng.uniform(-1, 1, 3) * 0.12 * s
    light = rng.uniform(-1, 1, 3) * 0.08 * s
    m = _hue_matrix(angle, saturation)
    luma = (0.299, 0.587, 0.114)
    ramp = np.arange(256, dtype=np.float32)
    tables = []
    for c in range(3):
        row = []
        scale = look.gains[c] * look.brightness * look.contrast
        offset = shadow[c] * 255 * look.contrast + 127.5 * (1 - look.contrast)
        for k in range(3):
            gain = (m[c][k] + luma[k] * (light[c] - shadow[c])) * scale
            row.append(ramp * np.float32(gain) + np.float32(offset / 3))
        tables.append(row)
    return tables


def _hue_matrix(angle: float, saturation: float) -> list[list[float]]:
    """RGB matrix rotating hue by `angle` about the grey axis and scaling saturation."""
    c, sn = math.cos(angle) * saturation, math.sin(angle) * saturation
    k, q = (1 - c) / 3, math.sqrt(1 / 3) * sn
    return [[c + k, k - q, k + q], [k + q, c + k, k - q], [k - q, k + q, c + k]]


def brush_factor(
    rng: np.random.Generator,
    s: float,
    h: int,
    w: int,
    amount_factor: float = 1.0,
    stroke: int | None = None,
) -> np.ndarray:
    """Brush streaks as a brightness factor around 1: noise smeared along stroke directions
    (the prompt's brush words scale the amount and set the stroke length)."""
    cell = 3
    sh, sw = -(-h // cell), -(-w // cell)
    noise = rng.random((sh, sw), dtype=np.float32)
    length = int(rng.integers(4, 9))
    length = stroke or length
    along_x = _box_blur(noise, length, axis=1)
    along_y = _box_blur(noise, length, axis=0)
    mix = smooth_noise(rng, (4, 4), sh, sw) * np.float32(0.5) + np.float32(0.5)
    amount = np.float32((0.16 + 0.24 * s) * amount_factor)  # streaks spread about +-0.25
    streaks = (along_x * mix + along_y * (1 - mix) - np.float32(0.5)) * amount + np.float32(1)
    out: np.ndarray = np.repeat(np.repeat(streaks, cell, axis=0), cell, axis=1)[:h, :w]
    return out


def _box_blur(a: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Mean over a window of `length` along `axis` (edge-padded), via cumulative sums."""
    pad = [(0, 0), (0, 0)]
    pad[axis] = (length // 2 + 1, length - length // 2 - 1)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float32)
    n = a.shape[axis]
    hi = np.take(c, np.arange(length, length + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    out: np.ndarray = (hi - lo) * np.float32(1 / length)
    return out


# -- a base picture when there is no painting ---------------------------------------------
def procedural_base(seed: int, w: int, h: int) -> np.ndarray:
    """A seeded colour-field painting: soft-edged stacked fields on a warm ground.

    Painted at a small size and scaled up: it is soft, and the brush texture added by
    vary() supplies the detail at full size.
    """
    scale = min(1.0, 192 / max(w, h))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    rng = np.random.default_rng([seed, 1])
    ground = rng.uniform(0.15, 0.55, 3).astype(np.float32)
    img = np.broadcast_to(ground, (sh, sw, 3)).copy()
    ys = (np.arange(sh, dtype=np.float32) + 0.5) / sh
    xs = (np.arange(sw, dtype=np.float32) + 0.5) / sw
    fields = int(rng.integers(2, 4))
    top = 0.08
    for i in range(fields):
        height = (0.84 - 0.04 * (fields - 1)) / fields
        colour = rng.uniform(0.1, 0.95, 3).astype(np.float32)
        margin = float(rng.uniform(0.06, 0.14))
        wobble = smooth_noise(rng, (5, 5), sh, sw) * np.float32(0.015)
        inside = _soft_band(ys[:, None] + wobble, top, top + height, 0.02)
        inside = inside * _soft_band(xs[None, :] + wobble, margin, 1 - margin, 0.02)
        img += (colour - img) * inside[..., None] * np.float32(0.9 - 0.1 * i)
        top += height + 0.04
    small = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    if (sw, sh) == (w, h):
        return small
    return np.asarray(Image.fromarray(small, "RGB").resize((w, h), Image.Resampling.BILINEAR))


def _soft_band(t: np.ndarray, lo: float, hi: float, feather: float) -> np.ndarray:
    """1 inside [lo, hi], 0 outside, with smoothstep edges `feather` wide."""
    a = np.clip((t - lo) / feather + 0.5, 0, 1)
    b = np.clip((hi - t) / feather + 0.5, 0, 1)
    a, b = a * a * (3 - 2 * a), b * b * (3 - 2 * b)
    out: np.ndarray = (a * b).astype(np.float32)
    return out
