"""Shared test set-up: headless SDL, and tools that CI must have."""

from __future__ import annotations

import os
import shutil

import pytest

# pygame under SDL's dummy driver everywhere in the suite (set before any pygame.init).
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

# The tiny diffusers models (and paintings, masks) that the engines, models and worker
# tests share; each is built lazily, the first time a test asks for it.
pytest_plugins = ["tests.models.fixtures"]


def need_tool(name: str) -> str:
    """Path of an external tool; skip without it, except in CI (INSTALLATION_REQUIRE_TOOLS=1)."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("INSTALLATION_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{name} is required in CI (scripts/system-deps.sh installs it)")
    pytest.skip(f"{name} not installed (Debian: see scripts/system-deps.sh)")
