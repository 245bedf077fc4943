"""The bare diffusers pipeline: the yardstick our engine and worker are measured against."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.variations import Variation


class PlainPipeline:
    """Plain diffusers img2img on the same model, called with the engine's arguments.

    The arguments mirror DiffusersEngine.call_args by hand (not by calling it), so a
    change there that costs time shows up as overhead here.
    """

    def __init__(self, model: Path, painting: Path) -> None:
        from diffusers import AutoPipelineForImage2Image

        from installation.models.folders import ensure_offline

        ensure_offline()
        self.pipe: Any = AutoPipelineForImage2Image.from_pretrained(
            str(model), local_files_only=True
        )
        self.pipe.set_progress_bar_config(disable=True)
        self.painting = painting
        self._images: dict[tuple[int, int], Any] = {}

    def args(self, v: Variation) -> dict[str, Any]:
        import torch

        p = v.params
        return {
            "prompt": v.prompt,
            "negative_prompt": v.negative_prompt or None,
            "num_inference_steps": p.steps,
            "guidance_scale": p.guidance,
            "generator": torch.Generator("cpu").manual_seed(v.seed),
            "num_images_per_prompt": 1,
            "output_type": "np",
            "image": self._image(p.width, p.height),
            "strength": p.strength,
        }

    def _image(self, width: int, height: int) -> Any:
        from PIL import Image

        from installation.engines.images import load_rgb

        key = (width, height)
        if key not in self._images:
            rgb = load_rgb(self.painting, (width, height), fit="cover")
            self._images[key] = Image.fromarray(rgb)
        return self._images[key]

    def call(self, v: Variation) -> Any:
        """The bare call (under inference_mode, as any careful caller would)."""
        import torch

        args = self.args(v)
        with torch.inference_mode():
            return self.pipe(**args).images

    def time(self, v: Variation) -> float:
        """Milliseconds of one bare call (argument building excluded)."""
        import torch

        args = self.args(v)
        t0 = time.perf_counter()
        with torch.inference_mode():
            self.pipe(**args)
        return (time.perf_counter() - t0) * 1000.0

    def image(self, v: Variation) -> np.ndarray:
        """The bare call's picture as uint8, converted as the engine converts it."""
        out = self.call(v)
        return np.asarray((out[0] * 255).round().clip(0, 255), dtype=np.uint8)

    def warm_up(self) -> None:
        from installation.engines.diffusers_engine import WARMUP

        self.call(WARMUP)
