"""The reference the engine tests compare against: the same render with diffusers alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from installation.core.variations import Variation


def plain_call(auto_class: str, model: Path, v: Variation, **kwargs: Any) -> np.ndarray:
    """`v` rendered by a freshly loaded diffusers pipeline, prompts passed as text, as uint8
    (converted as the engine converts): our engine must match it bit for bit."""
    import diffusers
    import torch

    pipe = getattr(diffusers, auto_class).from_pretrained(str(model), local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(
        prompt=v.prompt,
        negative_prompt=v.negative_prompt or None,
        num_inference_steps=v.params.steps,
        guidance_scale=v.params.guidance,
        generator=torch.Generator("cpu").manual_seed(v.seed),
        output_type="np",
        **kwargs,
    ).images[0]
    return np.asarray((out * 255).round().clip(0, 255), dtype=np.uint8)


def fitted(path: Path, size: int = 64) -> Any:
    """A painting fitted (cover) to size x size, as the engine fits it, as a PIL image."""
    from PIL import Image

    from installation.engines.images import load_rgb

    return Image.fromarray(load_rgb(path, (size, size), fit="cover"))
