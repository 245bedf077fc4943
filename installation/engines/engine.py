"""The engine interface and the spec an engine is built from.

An Engine turns a Variation into an HxWx3 uint8 RGB array. Engines are built
inside the worker process from an EngineSpec, which is plain picklable data
(build.build_engine; engine_spec.spec_from_show makes one from a show).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from installation.core.variations import Variation


class Engine(Protocol):
    name: str  # "diffusers" or "fallback": the engine actually in use

    def render(self, variation: Variation) -> np.ndarray:
        """HxWx3 uint8 RGB image of variation.params.output_size() (width x height, or
        its upscale when the show has [upscale])."""
        ...

    def describe(self) -> dict[str, str]:
        """Model name, fingerprint, versions: what the archive and status record."""
        ...


@dataclass(frozen=True)
class UpscaleSpec:
    """The worker's upscale pass after generation ([upscale] in the show; engines/upscale.py).

    mode "x4": a diffusers StableDiffusionUpscalePipeline folder (`model`), conditioned on
    the prompt and `noise_level`; mode "img2img": the show's own model over overlapping
    tiles at `strength`. The output size is in the variation (RenderParams.output_size).
    """

    mode: str  # x4 | img2img
    model: Path | None = None
    steps: int = 20
    guidance: float = 9.0
    noise_level: int = 20
    strength: float = 0.3
    tile: int = 512  # tile side in output pixels
    overlap: int = 64  # output pixels shared by neighbouring tiles, blended


@dataclass(frozen=True)
class EngineSpec:
    """Everything needed to build an engine in another process."""

    engine: str = "auto"  # auto | diffusers | fallback
    paintings: tuple[Path, ...] = ()
    mask: Path | None = None
    model: Path | None = None
    model_config_dir: Path | None = None
    device: str = "auto"
    tiny_vae: Path | None = None
    compile: bool = False
    safety_checker: Path | None = None
    safety_required: bool = False
    warmup: tuple[Variation, ...] = field(default=())
    upscale: UpscaleSpec | None = None
    # "module:callable" taking the spec and returning an Engine: for tests and plugins.
    factory: str | None = None
