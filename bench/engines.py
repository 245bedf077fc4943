"""Engine factories that the worker child loads by name (EngineSpec.factory)."""

from __future__ import annotations

import numpy as np

from installation.core.variations import Variation
from installation.engines.engine import EngineSpec


def colour_of(variation: Variation) -> tuple[int, int, int]:
    """A flat colour from the seed: distinct per variation, never black (32..223)."""
    s = variation.seed
    return (32 + s % 192, 32 + (s >> 8) % 192, 32 + (s >> 16) % 192)


class InstantEngine:
    """Answers at once with a flat colour: the worker path minus any generation."""

    name = "instant"

    def render(self, variation: Variation) -> np.ndarray:
        p = variation.params
        return np.full((p.height, p.width, 3), colour_of(variation), np.uint8)

    def describe(self) -> dict[str, str]:
        return {"engine": self.name}


def instant(spec: EngineSpec) -> InstantEngine:
    return InstantEngine()
