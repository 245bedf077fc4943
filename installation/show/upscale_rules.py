"""Cross-field rules for [upscale] (schema_upscale.py): what the pass needs from the rest
of the show, and its model folder. A model folder that is not there (yet) is a warning
(path_rules.model_warnings): pictures are enlarged with Lanczos until it appears."""

from __future__ import annotations

import math
from collections.abc import Iterator

from installation.show.path_rules import _missing, _resolve
from installation.show.rules import Issue, rule
from installation.show.schema import Show

UPSCALE_PIPELINE = "StableDiffusionUpscalePipeline"


@rule("upscale", "variations.model", "variations.engine", "artwork.mask")
def upscale_needs_a_model(show: Show) -> Iterator[Issue]:
    """img2img redraws with the show's own model: without one it could never run."""
    up, v = show.upscale, show.variations
    if up is None or up.mode != "img2img":
        return
    if v.model is None or v.engine == "fallback":
        yield (
            ("upscale", "mode"),
            "mode 'img2img' redraws with the show's own model, and this show renders with the "
            "fallback engine: set variations.model, use mode = 'x4' with an upscaler folder, "
            "or remove [upscale]",
        )
    steps = up.steps or v.steps
    if int(steps * up.strength) < 1:
        yield (
            ("upscale", "strength"),
            f"steps x strength must reach 1 for img2img, got {steps} x {up.strength:g}: set "
            f"upscale.steps to at least {math.ceil(1 / up.strength)} or raise strength",
        )


@rule("upscale.model")
def upscale_model(show: Show) -> Iterator[Issue]:
    """The x4 folder, when there, must be a StableDiffusionUpscalePipeline folder."""
    up = show.upscale
    if up is None or up.model is None:
        return
    path = _resolve(show, up.model)
    missing = _missing(path, "a folder")
    if missing is not None:
        if not missing.startswith("not found"):  # not found: a warning
            yield ("upscale", "model"), f"{str(up.model)!r} {missing}"
        return
    from installation.models.folders import ModelError, read_json

    if not path.is_dir():
        yield ("upscale", "model"), f"{str(up.model)!r} is a file; expected a diffusers folder"
        return
    try:
        kind = read_json(path / "model_index.json").get("_class_name")
    except ModelError as e:
        yield ("upscale", "model"), f"{str(up.model)!r} is not a diffusers folder ({e})"
        return
    if kind != UPSCALE_PIPELINE:
        yield (
            ("upscale", "model"),
            f"{str(up.model)!r} is a {kind} folder; mode x4 needs a {UPSCALE_PIPELINE} "
            "folder (installation models pull stabilityai/stable-diffusion-x4-upscaler --to ...)",
        )
