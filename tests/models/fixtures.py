"""Tiny diffusers models, built once per test session into a temporary folder.

Each fixture builds its folder the first time a test asks for it (the torch + diffusers
import, ~5 s, is paid once); tests that only need the fallback engine pay nothing.
Tests must not modify these folders: copy one (`copy_model`) to break it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_model(models_dir: Path) -> Path:
    """A tiny StableDiffusionPipeline folder (txt2img and img2img)."""
    from installation.models.tiny import make_tiny_pipeline

    return make_tiny_pipeline(models_dir / "tiny-sd")


@pytest.fixture(scope="session")
def tiny_inpaint_model(models_dir: Path) -> Path:
    """A tiny StableDiffusionInpaintPipeline folder (UNet in_channels=9)."""
    from installation.models.tiny import make_tiny_pipeline

    return make_tiny_pipeline(models_dir / "tiny-sd-inpaint", inpaint=True)


@pytest.fixture(scope="session")
def tiny_model_with_safety(models_dir: Path) -> Path:
    """A tiny pipeline folder that carries its own (never-flagging) safety checker."""
    from installation.models.tiny import make_tiny_pipeline

    return make_tiny_pipeline(models_dir / "tiny-sd-safety", safety=True)


@pytest.fixture(scope="session")
def flagging_checker(models_dir: Path) -> Path:
    """A safety checker folder that flags every image."""
    from installation.models.tiny import make_tiny_safety_checker

    return make_tiny_safety_checker(models_dir / "checker-flags-all", always_flag=True)


@pytest.fixture(scope="session")
def passing_checker(models_dir: Path) -> Path:
    """A safety checker folder that flags nothing."""
    from installation.models.tiny import make_tiny_safety_checker

    return make_tiny_safety_checker(models_dir / "checker-passes-all")


@pytest.fixture(scope="session")
def tiny_taesd(models_dir: Path) -> Path:
    """A tiny AutoencoderTiny that fits the tiny pipeline's latents."""
    from installation.models.tiny import make_tiny_vae

    return make_tiny_vae(models_dir / "taesd")


@pytest.fixture(scope="session")
def paintings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two distinct 'paintings' of a size other than the render size (so fitting happens)."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("art")
    rng = np.random.default_rng(7)
    out = []
    for i, size in enumerate([(96, 80), (70, 120)]):
        path = folder / f"painting{i}.png"
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
        out.append(path)
    return out[0], out[1]


@pytest.fixture(scope="session")
def mask(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """White square in the middle: repaint there, keep the rest."""
    from PIL import Image

    m = np.zeros((64, 64, 3), dtype=np.uint8)
    m[16:48, 16:48] = 255
    path = tmp_path_factory.mktemp("mask") / "mask.png"
    Image.fromarray(m).save(path)
    return path


@pytest.fixture
def copy_model(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a session model folder into this test's tmp folder (to break it safely)."""

    def copy(src: Path) -> Path:
        return Path(shutil.copytree(src, tmp_path / src.name))

    return copy


@pytest.fixture(scope="session")
def tiny_upscaler(models_dir: Path) -> Path:
    """A tiny StableDiffusionUpscalePipeline folder (the x4 upscaler's layout)."""
    from installation.models.tiny import make_tiny_upscaler

    return make_tiny_upscaler(models_dir / "tiny-x4")
