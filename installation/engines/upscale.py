"""The worker's upscale pass ([upscale]): the generated picture made sharp at screen size.

Runs in the worker right after generation, on the engine's device and dtype, so the
picture that reaches the cache, the archive and the wall is already the screen's size.
Two kinds, both over overlapping tiles blended with feathered edges (engines/tiles.py),
so memory stays bounded whatever the size:

- x4: a diffusers StableDiffusionUpscalePipeline folder (stable-diffusion-x4-upscaler),
  conditioned on the variation's prompt and `noise_level`. It always enlarges 4 times,
  so the picture is first resized to a quarter of the output size (at `scale` 4 nothing
  is lost; below 4 it is reduced first and redrawn), then the x4 result is fitted exactly.
- img2img: the show's own model at a low `strength` over tiles of the picture enlarged
  with Lanczos: detail redrawn at the new size, composition kept.

Deterministic: tile i is seeded with tile_seed(variation.seed, i) on a CPU generator.
When the upscaler cannot load or fails, the picture is enlarged with Lanczos instead (what
the display would do), logged once, and describe() says FAIL with the reason, which the
worker's status shows; the cache key follows describe(), so those pictures never pass
for upscaled ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from installation.core.variations import Variation
from installation.engines.engine import UpscaleSpec
from installation.engines.images import enlarge
from installation.engines.tiles import Blender, tile_boxes
from installation.errors import ModelError, UnsafeImage
from installation.models.folders import model_fingerprint, read_json, require_model

log = logging.getLogger(__name__)

UPSCALE_PIPELINE = "StableDiffusionUpscalePipeline"


def tile_seed(seed: int, index: int) -> int:
    """The seed of tile `index`: its own noise, so tiles do not repeat one pattern."""
    digest = hashlib.sha256(f"{seed}|upscale|{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 2**32


def as_uint8(image: Any) -> np.ndarray:
    return np.asarray((np.asarray(image) * 255).round().clip(0, 255), dtype=np.uint8)


class Upscaler(Protocol):
    def upscale(self, image: np.ndarray, variation: Variation, size: tuple[int, int]) -> Any: ...


def _run(pipe: Any, args: dict[str, Any]) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return as_uint8(pipe(**args).images[0])


def _common(variation: Variation, index: int, steps: int, guidance: float) -> dict[str, Any]:
    import torch

    return {
        "prompt": variation.prompt,
        "negative_prompt": variation.negative_prompt or None,
        "num_inference_steps": steps,
        "guidance_scale": guidance,
        "generator": torch.Generator("cpu").manual_seed(tile_seed(variation.seed, index)),
        "num_images_per_prompt": 1,
        "output_type": "np",
    }


class X4Upscaler:
    """A StableDiffusionUpscalePipeline folder, loaded like the base model (local files
    only, the engine's dtype and device, progress bars off)."""

    def __init__(self, spec: UpscaleSpec, device: str, dtype: Any) -> None:
        from diffusers import StableDiffusionUpscalePipeline

        self.spec = spec
        folder = Path(spec.model)  # type: ignore[arg-type]
        report = require_model(folder)
        if report.kind != "diffusers folder" or report.pipeline_class != UPSCALE_PIPELINE:
            raise ModelError(
                f"upscale.model {folder} is a {report.pipeline_class or report.kind}, "
                f"expected a {UPSCALE_PIPELINE} folder (stable-diffusion-x4-upscaler)"
            )
        try:
            pipe = StableDiffusionUpscalePipeline.from_pretrained(
                str(folder), dtype=dtype, local_files_only=True
            )
        except Exception as e:  # any failure reading model files is a model problem
            first = (str(e).strip().splitlines() or [""])[0]
            raise ModelError(
                f"upscale.model {folder} did not load: {type(e).__name__}: {first}"
            ) from e
        if spec.noise_level > pipe.config.max_noise_level:
            raise ModelError(
                f"upscale.noise_level {spec.noise_level} is above this model's "
                f"max_noise_level {pipe.config.max_noise_level}"
            )
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(device)
        if device == "cuda":
            import torch

            self.pipe.unet.to(memory_format=torch.channels_last)
        self.fingerprint = model_fingerprint(folder)

    def upscale(self, image: np.ndarray, variation: Variation, size: tuple[int, int]) -> Any:
        from PIL import Image

        s = self.spec
        width = math.ceil(size[0] / 32) * 8  # a quarter of the output, multiples of 8
        height = math.ceil(size[1] / 32) * 8
        low = enlarge(image, (width, height))  # Lanczos, here usually a reduction
        blender = Blender(width * 4, height * 4, s.overlap)
        boxes = tile_boxes(width, height, s.tile // 4, s.overlap // 4)
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            args = _common(variation, i, s.steps, s.guidance)
            args.update(image=Image.fromarray(low[y0:y1, x0:x1]), noise_level=s.noise_level)
            blender.add((x0 * 4, y0 * 4, x1 * 4, y1 * 4), _run(self.pipe, args))
        return enlarge(blender.result(), size)


class TiledImg2Img:
    """The show's own model (its modules shared, no second copy) as img2img over tiles."""

    def __init__(self, spec: UpscaleSpec, base_pipe: Any) -> None:
        from diffusers import AutoPipelineForImage2Image

        channels = base_pipe.unet.config.in_channels
        if channels != 4:
            raise ModelError(
                f"upscale mode img2img needs a model whose UNet takes 4 channels; this one "
                f"takes {channels} (an inpainting model): use mode = 'x4' with an upscaler"
            )
        self.spec = spec
        self.pipe = AutoPipelineForImage2Image.from_pipe(base_pipe)
        self.pipe.set_progress_bar_config(disable=True)

    def upscale(self, image: np.ndarray, variation: Variation, size: tuple[int, int]) -> Any:
        from PIL import Image

        s = self.spec
        big = enlarge(image, size)
        blender = Blender(size[0], size[1], s.overlap)
        for i, (x0, y0, x1, y1) in enumerate(tile_boxes(size[0], size[1], s.tile, s.overlap)):
            args = _common(variation, i, s.steps, s.guidance)
            args.update(image=Image.fromarray(big[y0:y1, x0:x1]), strength=s.strength)
            blender.add((x0, y0, x1, y1), _run(self.pipe, args))
        return blender.result()


def settings_text(spec: UpscaleSpec) -> str:
    """The settings that shape the upscaled pixels, for describe() (and so the cache key)."""
    kind = f"noise_level={spec.noise_level}" if spec.mode == "x4" else f"strength={spec.strength:g}"
    return (
        f"{spec.mode} steps={spec.steps} guidance={spec.guidance:g} {kind} "
        f"tile={spec.tile} overlap={spec.overlap}"
    )


def load_problem(spec: UpscaleSpec, e: BaseException) -> str:
    """One line on why the upscaler did not load, with the fix."""
    if spec.model is not None and not Path(spec.model).exists():
        return f"upscale.model {spec.model} not found: mount the model disk or fix the path"
    return f"{type(e).__name__}: {e}; check it with `installation models check {spec.model}`"


def model_name(spec: UpscaleSpec) -> str:
    return Path(spec.model).name if spec.model is not None else "the show's model"


def read_pipeline_class(folder: Path) -> str:
    """The pipeline class a model folder names ('' when it has no readable index)."""
    try:
        return str(read_json(Path(folder) / "model_index.json").get("_class_name", ""))
    except ModelError:
        return ""


NOT_UPSCALED = "diffusers, not upscaled"  # the engine's name once the pass failed mid-run


class UpscalingEngine:
    """The diffusers engine with the upscale pass after it (the Engine protocol)."""

    name = "diffusers"

    def __init__(self, base: Any, spec: UpscaleSpec) -> None:
        self.base, self.spec = base, spec
        self.problem = ""  # why pictures are not upscaled; "" while they are
        self.fingerprint = ""
        self._upscaler: Upscaler | None = None
        try:
            if spec.mode == "x4":
                x4 = X4Upscaler(spec, base.device, base.dtype)
                self._upscaler, self.fingerprint = x4, x4.fingerprint
            else:
                self._upscaler = TiledImg2Img(spec, base.pipe)
        except Exception as e:
            self._give_up(load_problem(spec, e))

    def _give_up(self, problem: str) -> None:
        self.problem, self._upscaler = problem, None
        log.error(
            "upscale: %s; pictures are enlarged with Lanczos instead (not upscaled by %s)",
            problem,
            model_name(self.spec),
        )

    def render(self, variation: Variation) -> np.ndarray:
        image = self.base.render(variation)  # UnsafeImage and EngineError pass through
        size = variation.params.output_size()
        if (image.shape[1], image.shape[0]) == size:
            return image
        if self._upscaler is not None:
            try:
                return np.ascontiguousarray(self._upscaler.upscale(image, variation, size))
            except Exception as e:  # OOM or a broken model: the wall still gets its picture
                _free_cuda()
                self._give_up(f"failed on variation {variation.key}: {type(e).__name__}: {e}")
                # The worker's hello already described this engine as upscaling, and the
                # cache keys its pictures by that: a result under another engine name is
                # shown but never stored, so no Lanczos picture passes for an upscaled one.
                self.name = NOT_UPSCALED
        return enlarge(image, size)

    def describe(self) -> dict[str, str]:
        info = dict(self.base.describe())
        info["upscale"] = (
            f"FAIL: {self.problem}" if self.problem else f"{self.spec.mode} {model_name(self.spec)}"
        )
        info["upscale_settings"] = settings_text(self.spec)
        if self.fingerprint:
            info["upscale_fingerprint"] = self.fingerprint
        return info

    def warm_up(self, variations: tuple[Variation, ...]) -> None:
        """Render and upscale the warm-up variations once (the base engine was built
        without its own warm-up), so first-call costs are paid before a throw."""
        for variation in variations:
            with contextlib.suppress(UnsafeImage):
                self.render(variation)

    def __repr__(self) -> str:
        state = f"FAIL: {self.problem}" if self.problem else "on"
        return f"UpscalingEngine({self.base!r}, {self.spec.mode}, {state})"


def _free_cuda() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
