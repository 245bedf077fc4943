"""The show's [upscale] table: the worker's upscale pass after generation (engines/upscale.py).

Apart from [display] upscale (how the screen enlarges whatever it gets): this pass runs
on the GPU in the worker, so the picture the wall receives is already its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from installation.show.schema_base import Section

MAX_SIDE = 4096  # the largest output side: a 4096x4096 picture is 50 MB of RGB
X4_STEPS, X4_GUIDANCE = 20, 9.0  # diffusers' defaults for the x4 upscaler
ANYWHERE = "Relative to the show folder, or absolute (models often live on a data disk)."


class UpscaleSection(Section):
    mode: Literal["x4", "img2img"] = Field(
        description="x4: a diffusers x4 upscaler folder (`model`, e.g. "
        "stabilityai/stable-diffusion-x4-upscaler), conditioned on the prompt. img2img: the "
        "show's own model redraws overlapping tiles of the enlarged picture at `strength`."
    )
    model: Path | None = Field(
        None,
        strict=False,
        description=f"mode x4: a local StableDiffusionUpscalePipeline folder. {ANYWHERE}",
    )
    scale: float = Field(
        2.0,
        gt=1,
        le=4,
        description="Output size = the generation size times this (multiples of 8). x4 "
        "always enlarges 4 times: below 4 the picture is first reduced to a quarter of the "
        "output; 4 keeps every generated pixel.",
    )
    max_side: int = Field(
        2048,
        ge=256,
        le=MAX_SIDE,
        description=f"The output's long side is at most this (256 to {MAX_SIDE}); a "
        "screen's resolution is enough (1920 for 1080p).",
    )
    steps: int | None = Field(
        None,
        ge=1,
        le=100,
        description=f"Denoising steps; none: {X4_STEPS} for x4, the show's steps for img2img.",
    )
    guidance: float | None = Field(
        None,
        ge=0,
        le=30,
        description=f"Guidance scale; none: {X4_GUIDANCE:g} for x4, the show's for img2img.",
    )
    noise_level: int = Field(
        20,
        ge=0,
        le=350,
        description="x4: noise added to the low-resolution picture (0 to 350); more invents "
        "more detail and strays further.",
    )
    strength: float = Field(
        0.3,
        gt=0,
        le=1,
        description="img2img: how far each tile may move from the enlarged picture "
        "(0.2 to 0.4 keeps the composition).",
    )
    tile: int = Field(
        512,
        ge=128,
        le=1024,
        description="Tile side in output pixels (multiple of 8; of 32 for x4), 128 to 1024: "
        "bounds GPU memory whatever the output size.",
    )
    overlap: int = Field(
        64,
        ge=0,
        le=256,
        description="Output pixels neighbouring tiles share, blended with feathered edges "
        "(multiple of 8; of 4 for x4); under half the tile.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> UpscaleSection:
        problems = []
        if self.mode == "x4" and self.model is None:
            problems.append("mode 'x4' needs model: a local x4 upscaler folder")
        if self.mode == "img2img" and self.model is not None:
            problems.append(
                "mode 'img2img' uses the show's own model; remove model, or use mode = 'x4'"
            )
        step = 32 if self.mode == "x4" else 8
        if self.tile % step:
            problems.append(f"tile {self.tile} must be a multiple of {step} for mode {self.mode}")
        if self.overlap % (4 if self.mode == "x4" else 8):
            problems.append(f"overlap {self.overlap} must be a multiple of 8 (of 4 for x4)")
        if self.overlap * 2 >= self.tile:
            problems.append(f"overlap {self.overlap} must be under half the tile ({self.tile})")
        if problems:
            raise ValueError("; ".join(problems))
        return self
