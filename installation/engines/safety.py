"""The optional image safety checker, loaded only from a local folder.

Why our own: the pipeline's built-in check silently swaps a flagged image for a black
one, and a black frame is exactly what the wall must never show. We load the pipeline
without its checker, run this one on every finished image, and the engine raises
UnsafeImage so the app re-rolls with the next derived seed.

A checker folder holds `safety_checker/` (StableDiffusionSafetyChecker weights) and
`feature_extractor/` (CLIPImageProcessor config), which is the layout of an SD 1.x model
folder too, so `safety.checker` may point at one. A folder holding the two files of each
side by side (config.json + preprocessor_config.json) also works.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from installation.errors import ModelError

log = logging.getLogger(__name__)


def checker_parts(folder: Path) -> tuple[Path, Path]:
    """(checker folder, feature-extractor folder) inside `folder`, or ModelError saying why not."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"safety checker folder does not exist: {folder}")
    if (folder / "safety_checker").is_dir():
        checker, extractor = folder / "safety_checker", folder / "feature_extractor"
    else:
        checker = extractor = folder
    missing = [
        str(p.relative_to(folder.parent))
        for p in (checker / "config.json", extractor / "preprocessor_config.json")
        if not p.is_file()
    ]
    if not any(checker.glob("*.safetensors")) and not any(checker.glob("*.bin")):
        missing.append(f"{checker.relative_to(folder.parent)}/model.safetensors")
    if missing:
        raise ModelError(
            f"safety checker folder {folder} is incomplete, missing: {', '.join(missing)} "
            "(expected safety_checker/ with config.json + weights and "
            "feature_extractor/preprocessor_config.json)"
        )
    return checker, extractor


class SafetyChecker:
    """Flags images with a StableDiffusionSafetyChecker; never alters them."""

    def __init__(self, checker: Any, extractor: Any, source: Path) -> None:
        self._checker = checker
        self._extractor = extractor
        self.source = source

    def flagged(self, image: np.ndarray) -> bool:
        """True when the checker finds any concept in this HxWx3 uint8 image."""
        import torch
        from PIL import Image

        param = next(self._checker.parameters())
        pixels = self._extractor([Image.fromarray(image)], return_tensors="pt").pixel_values
        clip_input = pixels.to(device=param.device, dtype=param.dtype)
        scratch = [np.zeros((1, 1, 3), dtype=np.float32)]  # the checker blanks what it flags
        with torch.inference_mode():
            _, has_nsfw = self._checker(clip_input=clip_input, images=scratch)
        return bool(has_nsfw[0])


def load_safety_checker(
    folder: Path | None, *, required: bool, device: str = "cpu", dtype: Any = None
) -> SafetyChecker | None:
    """The checker from `folder`; None when not configured (a ModelError if required).
    A configured checker that does not load is always a ModelError (see below)."""
    if folder is None:
        if required:
            raise ModelError(
                "safety.required is true but safety.checker is not set: point it at a local "
                "folder holding safety_checker/ and feature_extractor/"
            )
        return None
    try:
        return _load(Path(folder), device, dtype)
    except Exception as e:
        # A configured checker that does not load is never silently skipped, required or
        # not: the engine refuses to start, and the worker shows the procedural fallback
        # (which cannot produce an unsafe image) until the checker is mended.
        reason = e if isinstance(e, ModelError) else f"{type(e).__name__}: {e}"
        raise ModelError(
            f"the safety checker at {folder} did not load ({reason}); "
            "AI images are not shown without it"
        ) from e


def _load(folder: Path, device: str, dtype: Any) -> SafetyChecker:
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPImageProcessor

    checker_dir, extractor_dir = checker_parts(folder)
    kwargs: dict[str, Any] = {"local_files_only": True}
    if dtype is not None:
        kwargs["dtype"] = dtype
    load: Any = StableDiffusionSafetyChecker.from_pretrained  # typed oddly upstream
    checker = load(str(checker_dir), **kwargs)
    extractor = CLIPImageProcessor.from_pretrained(str(extractor_dir), local_files_only=True)
    return SafetyChecker(checker.to(device).eval(), extractor, folder)
