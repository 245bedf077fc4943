"""How an engine is chosen: the one the spec asks for, or the fallback engine, loudly.

The diffusers engine is imported only when a spec asks for it: torch and diffusers take
seconds to import and may not be installed.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path

from installation.engines.engine import Engine, EngineSpec
from installation.engines.fallback import FallbackEngine
from installation.errors import ModelError

log = logging.getLogger(__name__)


def wanted_engine(spec: EngineSpec) -> Engine:
    """Exactly the engine the spec asks for, or the exception saying why it cannot load
    (ImportError without the AI extras, ModelError for a missing or broken model ...).
    'auto' without a model asks for the fallback engine: nothing is wrong then."""
    if spec.factory:
        module, _, attr = spec.factory.partition(":")
        return getattr(importlib.import_module(module), attr)(spec)  # type: ignore[no-any-return,unused-ignore]
    if spec.engine == "fallback" or (spec.engine == "auto" and spec.model is None):
        return FallbackEngine(spec.paintings)
    if gone := missing_paths(spec):  # said before the seconds a torch import costs
        raise ModelError(f"not found: {', '.join(str(p) for p in gone)}")
    from installation.engines.diffusers_engine import WARMUP, DiffusersEngine

    if spec.upscale is None:
        return DiffusersEngine(spec)
    from installation.engines.upscale import UpscalingEngine

    # a broken upscaler never costs the model: pictures are then enlarged with Lanczos
    engine = UpscalingEngine(DiffusersEngine(spec, warm_up=False), spec.upscale)
    engine.warm_up(spec.warmup or (WARMUP,))
    return engine


def missing_paths(spec: EngineSpec) -> list[Path]:
    """The files and folders the spec's model needs that are not there (a model disk that
    did not mount): while any is missing, loading cannot succeed."""
    wanted = (spec.model, spec.model_config_dir, spec.tiny_vae, spec.safety_checker)
    return [p for p in wanted if p is not None and not _exists(p)]


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def load_problem(spec: EngineSpec, e: BaseException) -> str:
    """One line on why the engine the spec asks for did not load, with the fix."""
    if isinstance(e, ImportError):
        return f"diffusers is not installed ({e}); install the AI extras: pip install '.[ai]'"
    if gone := missing_paths(spec):
        names = ", ".join(str(p) for p in gone)
        return f"{names} not found: mount the model disk or fix the show's model paths"
    return (
        f"the model did not load ({type(e).__name__}: {e}); "
        "check it with `installation models check`"
    )


def build_engine(spec: EngineSpec) -> Engine:
    """The engine the spec asks for. 'auto' falls back to the procedural engine, loudly;
    'diffusers' raises."""
    try:
        return wanted_engine(spec)
    except Exception as e:
        if spec.engine != "auto":
            raise
        log.error("engine auto: %s; using the fallback engine", load_problem(spec, e))
        return FallbackEngine(spec.paintings)
