"""What the words of a prompt do to the fallback engine's picture (no model needed).

The fallback cannot draw what a prompt names - no cat appears for "a cat" - but it
answers to words so a curator rehearsing without a GPU sees each die change something:
words it knows set the palette (gold, blue, autumn ...), the light (dusk, night, noon,
fog ...), the composition (mirror, bands, wind, still ...) and the brush (impasto,
watercolour, sketch ...); every other word shifts hue and brightness a little by its own
hash. Deterministic: the same prompt gives the same look, and changing one word changes
the picture of exactly the outcomes whose prompt holds it (docs/curators.md).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z]+")
MAX_WORDS = 200  # a prompt is bounded by the schema; this bounds the work per render

# palette: per-channel gains (R, G, B)
PALETTE: dict[str, tuple[float, float, float]] = {
    "red": (1.25, 0.85, 0.85),
    "crimson": (1.3, 0.8, 0.85),
    "rust": (1.2, 0.9, 0.75),
    "orange": (1.25, 1.0, 0.75),
    "amber": (1.2, 1.05, 0.7),
    "gold": (1.2, 1.08, 0.72),
    "golden": (1.2, 1.08, 0.72),
    "ochre": (1.15, 1.05, 0.75),
    "yellow": (1.15, 1.15, 0.7),
    "autumn": (1.2, 0.98, 0.75),
    "fire": (1.3, 0.95, 0.7),
    "green": (0.85, 1.2, 0.85),
    "forest": (0.8, 1.12, 0.85),
    "spring": (0.95, 1.15, 0.9),
    "teal": (0.75, 1.1, 1.1),
    "sea": (0.8, 1.0, 1.2),
    "blue": (0.8, 0.92, 1.3),
    "winter": (0.88, 0.98, 1.2),
    "ice": (0.9, 1.05, 1.25),
    "violet": (1.05, 0.82, 1.25),
    "purple": (1.05, 0.8, 1.2),
    "pink": (1.2, 0.9, 1.1),
    "sepia": (1.15, 1.0, 0.78),
}
# light: (brightness gain, contrast, per-channel gains)
LIGHT: dict[str, tuple[float, float, tuple[float, float, float]]] = {
    "dusk": (0.8, 1.05, (1.08, 0.92, 1.0)),
    "twilight": (0.75, 1.0, (0.95, 0.92, 1.12)),
    "evening": (0.85, 1.0, (1.08, 0.96, 0.92)),
    "sunset": (0.92, 1.1, (1.2, 0.95, 0.8)),
    "sunrise": (1.0, 1.05, (1.12, 1.0, 0.9)),
    "dawn": (0.95, 0.95, (1.05, 0.98, 1.05)),
    "morning": (1.08, 0.95, (1.0, 1.02, 1.04)),
    "noon": (1.18, 1.15, (1.02, 1.02, 1.0)),
    "bright": (1.2, 1.05, (1.0, 1.0, 1.0)),
    "hour": (1.02, 1.05, (1.1, 1.0, 0.85)),
    "night": (0.55, 1.1, (0.85, 0.9, 1.2)),
    "midnight": (0.45, 1.15, (0.8, 0.85, 1.2)),
    "moonlight": (0.6, 1.0, (0.85, 0.95, 1.25)),
    "dark": (0.65, 1.1, (1.0, 1.0, 1.0)),
    "candle": (0.7, 1.1, (1.25, 0.95, 0.7)),
    "fog": (1.05, 0.6, (1.0, 1.0, 1.03)),
    "mist": (1.05, 0.65, (1.0, 1.02, 1.04)),
    "haze": (1.05, 0.7, (1.05, 1.02, 0.97)),
    "storm": (0.7, 1.25, (0.9, 0.95, 1.05)),
}
# composition: a recomposition the word forces, or how much the picture flows
COMPOSITION: dict[str, str] = {
    "mirror": "mirror",
    "reflection": "mirror",
    "symmetry": "mirror",
    "fragment": "bands",
    "fragments": "bands",
    "fractured": "bands",
    "broken": "bands",
    "bands": "bands",
    "rain": "columns",
    "falling": "columns",
    "columns": "columns",
}
FLOW: dict[str, float] = {
    "wind": 2.0,
    "waves": 2.2,
    "wave": 2.0,
    "flow": 1.8,
    "flowing": 1.8,
    "storm": 2.2,
    "drift": 1.6,
    "still": 0.25,
    "calm": 0.35,
    "quiet": 0.5,
}
# brush: (streak amount factor, streak length in cells)
BRUSH: dict[str, tuple[float, int]] = {
    "impasto": (2.2, 6),
    "thick": (1.8, 5),
    "rough": (1.8, 3),
    "knife": (2.0, 10),
    "sketch": (1.6, 12),
    "ink": (1.5, 12),
    "watercolour": (0.5, 8),
    "watercolor": (0.5, 8),
    "soft": (0.5, 6),
    "smooth": (0.35, 8),
    "pastel": (0.7, 5),
}


@dataclass(frozen=True)
class Look:
    """How the words of a prompt change the fallback picture."""

    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per channel (palette and light)
    brightness: float = 1.0
    contrast: float = 1.0
    hue: float = 0.0  # degrees added to the seed's hue rotation
    composition: str | None = None  # mirror | bands | columns: forced recomposition
    flow: float = 1.0  # warp amplitude factor
    brush: float = 1.0  # brush streak amount factor
    stroke: int | None = None  # brush streak length (cells); None: the seed's
    known: tuple[str, ...] = field(default=())  # the words that had a named effect


def _hash(word: str) -> int:
    return int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:4], "big")


def look_for(prompt: str) -> Look:
    """The look of a prompt: named effects for known words, a small hashed shift for the
    rest (so any change of a word changes the picture)."""
    words = _WORD.findall(prompt.lower())[:MAX_WORDS]
    gains = [1.0, 1.0, 1.0]
    brightness, contrast, hue, flow, brush = 1.0, 1.0, 0.0, 1.0, 1.0
    composition: str | None = None
    stroke: int | None = None
    known: list[str] = []
    for word in words:
        hit = False
        if word in PALETTE:
            gains = [g * p for g, p in zip(gains, PALETTE[word], strict=True)]
            hit = True
        if word in LIGHT:
            b, c, tint = LIGHT[word]
            brightness, contrast = brightness * b, contrast * c
            gains = [g * t for g, t in zip(gains, tint, strict=True)]
            hit = True
        if word in COMPOSITION:
            composition = COMPOSITION[word]
            hit = True
        if word in FLOW:
            flow *= FLOW[word]
            hit = True
        if word in BRUSH:
            amount, stroke = BRUSH[word]
            brush *= amount
            hit = True
        if hit:
            known.append(word)
            continue
        h = _hash(word)  # an unknown word: a small shift of its own
        hue += (h % 61 - 30) * 0.6  # up to 18 degrees either way
        brightness *= 1 + ((h >> 8) % 41 - 20) / 500  # up to 4 % either way
    return Look(
        gains=(_clamp(gains[0]), _clamp(gains[1]), _clamp(gains[2])),
        brightness=min(max(brightness, 0.3), 1.6),
        contrast=min(max(contrast, 0.4), 1.6),
        hue=(hue + 180) % 360 - 180,
        composition=composition,
        flow=min(max(flow, 0.1), 4.0),
        brush=min(max(brush, 0.2), 3.0),
        stroke=stroke,
        known=tuple(dict.fromkeys(known)),
    )


def _clamp(g: float) -> float:
    return min(max(g, 0.4), 1.8)
