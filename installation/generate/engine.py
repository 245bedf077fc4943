"""The engine interface and how an engine is chosen.

An Engine turns a Variation into an HxWx3 uint8 RGB array. Engines are built
inside the worker process from an EngineSpec, which is plain picklable data.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from installation.core.variations import Variation

log = logging.getLogger(__name__)


class Engine(Protocol):
    name: str  # "diffusers" or "fallback": the engine actually in use

    def render(self, variation: Variation) -> np.ndarray:
        """HxWx3 uint8 RGB image of size variation.params.width x height."""
        ...

    def describe(self) -> dict[str, str]:
        """Model name, fingerprint, versions: what the archive and status record."""
        ...


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
    # "module:callable" taking the spec and returning an Engine: for tests and plugins.
    factory: str | None = None


def spec_from_show(show: object) -> EngineSpec:
    """Build the spec from a loaded Show (typed loosely to keep this import-light)."""
    from installation.show.schema import Show

    assert isinstance(show, Show)
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
    )


def _warmup_variation(show: Any) -> Variation:
    """One render at the show's real size and settings at start-up, so first-call and
    torch.compile costs (tied to the image size) are paid before a visitor throws."""
    from installation.show.schema import variation_rule

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


def build_engine(spec: EngineSpec) -> Engine:
    """The engine the spec asks for. 'auto' falls back to the procedural engine, loudly."""
    from installation.generate.fallback import FallbackEngine

    if spec.factory:
        module, _, attr = spec.factory.partition(":")
        return getattr(importlib.import_module(module), attr)(spec)  # type: ignore[no-any-return,unused-ignore]
    if spec.engine == "fallback" or (spec.engine == "auto" and spec.model is None):
        return FallbackEngine(spec.paintings)
    try:
        from installation.generate.diffusers_engine import DiffusersEngine
    except ImportError as e:  # diffusers/torch not installed
        if spec.engine == "diffusers":
            raise
        log.warning("engine auto: diffusers is not installed (%s); using the fallback engine", e)
        return FallbackEngine(spec.paintings)
    if spec.engine == "diffusers":
        return DiffusersEngine(spec)
    try:
        return DiffusersEngine(spec)
    except Exception as e:  # auto: any load failure means fallback, logged with the reason
        log.error(
            "engine auto: the diffusers model did not load (%s); using the fallback engine", e
        )
        return FallbackEngine(spec.paintings)
