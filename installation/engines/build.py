"""How an engine is chosen: the one the spec asks for, or the fallback engine, loudly.

The diffusers engine is imported only when a spec asks for it: torch and diffusers take
seconds to import and may not be installed.
"""

from __future__ import annotations

import importlib
import logging

from installation.engines.engine import Engine, EngineSpec
from installation.engines.fallback import FallbackEngine

log = logging.getLogger(__name__)


def build_engine(spec: EngineSpec) -> Engine:
    """The engine the spec asks for. 'auto' falls back to the procedural engine, loudly."""
    if spec.factory:
        module, _, attr = spec.factory.partition(":")
        return getattr(importlib.import_module(module), attr)(spec)  # type: ignore[no-any-return,unused-ignore]
    if spec.engine == "fallback" or (spec.engine == "auto" and spec.model is None):
        return FallbackEngine(spec.paintings)
    try:
        from installation.engines.diffusers_engine import DiffusersEngine
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
