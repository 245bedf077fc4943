"""The EngineSpec a show asks for: its paintings, model, device and safety settings.

Kept apart from engines/ so the engines do not depend on the show schema.
"""

from __future__ import annotations

from installation.core.variations import Variation
from installation.engines.engine import EngineSpec, UpscaleSpec
from installation.show.schema import Show, variation_rule
from installation.show.schema_upscale import X4_GUIDANCE, X4_STEPS


def spec_from_show(show: Show) -> EngineSpec:
    """Build the spec from a loaded Show."""
    v, e = show.variations, show.engine
    return EngineSpec(
        engine=v.engine,
        paintings=tuple(show.resolve(p) for p in show.artwork.paintings),
        mask=show.resolve(show.artwork.mask) if show.artwork.mask else None,
        model=show.resolve(v.model) if v.model else None,
        model_config_dir=show.resolve(v.model_config_dir) if v.model_config_dir else None,
        device=e.device,
        tiny_vae=show.resolve(e.tiny_vae) if e.tiny_vae else None,
        compile=e.compile,
        safety_checker=show.resolve(show.safety.checker) if show.safety.checker else None,
        safety_required=show.safety.required,
        warmup=(_warmup_variation(show),),
        upscale=upscale_spec(show),
    )


def upscale_spec(show: Show) -> UpscaleSpec | None:
    """The [upscale] table as the engine's plain data (None: no upscale pass)."""
    up, v = show.upscale, show.variations
    if up is None:
        return None
    x4 = up.mode == "x4"
    guidance = up.guidance if up.guidance is not None else (X4_GUIDANCE if x4 else v.guidance)
    return UpscaleSpec(
        mode=up.mode,
        model=show.resolve(up.model) if up.model is not None else None,
        steps=up.steps or (X4_STEPS if x4 else v.steps),
        guidance=guidance,
        noise_level=up.noise_level,
        strength=up.strength,
        tile=up.tile,
        overlap=up.overlap,
    )


def _warmup_variation(show: Show) -> Variation:
    """One render at the show's real size and settings at start-up, so first-call and
    torch.compile costs (tied to the image size) are paid before a visitor throws."""
    rule = variation_rule(show)
    return Variation(
        faces=(1,) * show.dice.count,
        key="warm-up",
        number=0,
        seed=0,
        prompt=rule.prompt,
        negative_prompt=rule.negative_prompt,
        params=rule.params,
    )
