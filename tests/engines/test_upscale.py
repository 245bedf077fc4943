"""The upscale pass on tiny random models: a real x4 StableDiffusionUpscalePipeline folder
and the tiny SD pipeline as tiled img2img, loaded through build_engine as the worker does."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from installation.cache.keys import cache_key, engine_stamp
from installation.core.variations import RenderParams, Variation
from installation.engines import upscale
from installation.engines.build import build_engine
from installation.engines.engine import EngineSpec, UpscaleSpec
from installation.engines.fallback import FallbackEngine

pytest.importorskip("torch")
pytest.importorskip("diffusers")

# 32x32 generated, x2 -> 64x64: the smallest sizes the tiny models take, so tests stay fast
PARAMS = RenderParams(0.6, 2, 1.0, 32, 32, upscale=2.0, max_side=2048)
X4 = UpscaleSpec(mode="x4", steps=2, guidance=1.0, noise_level=20, tile=32, overlap=8)
IMG2IMG = UpscaleSpec(mode="img2img", steps=2, guidance=1.0, strength=0.5, tile=32, overlap=8)


def variation(seed: int = 1234, **params: Any) -> Variation:
    return Variation(
        faces=(3, 5),
        key="3-5",
        number=17,
        seed=seed,
        prompt="the sea at night",
        negative_prompt="",
        params=replace(PARAMS, **params),
    )


def engine(model: Path, upscale: UpscaleSpec) -> Any:
    spec = EngineSpec(
        engine="diffusers", model=model, device="cpu", upscale=upscale, warmup=(variation(),)
    )
    return build_engine(spec)


@pytest.fixture(scope="module")
def x4_engine(tiny_model: Path, tiny_upscaler: Path) -> Any:
    return engine(tiny_model, replace(X4, model=tiny_upscaler))


def test_x4_returns_the_output_size_deterministically(x4_engine: Any) -> None:
    a, b = x4_engine.render(variation()), x4_engine.render(variation())
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, x4_engine.render(variation(seed=99)))
    assert x4_engine.describe()["upscale"] == "x4 tiny-x4"


def test_x4_redraws_rather_than_enlarges(x4_engine: Any, tiny_model: Path) -> None:
    base = build_engine(EngineSpec(engine="diffusers", model=tiny_model, device="cpu"))
    from installation.engines.images import enlarge

    lanczos = enlarge(base.render(variation()), (64, 64))
    assert np.abs(x4_engine.render(variation()).astype(int) - lanczos).mean() > 1


def test_x4_over_several_tiles_keeps_a_non_square_size(x4_engine: Any) -> None:
    image = x4_engine.render(variation(width=48, height=32, upscale=4.0))  # 2x1 input tiles
    assert image.shape == (128, 192, 3)


def test_tiled_img2img_gives_the_target_size_deterministically(tiny_model: Path) -> None:
    eng = engine(tiny_model, IMG2IMG)
    v = variation(width=40, height=32, upscale=2.0)  # 80x64: 3x2 tiles of 32
    a = eng.render(v)
    assert a.shape == (64, 80, 3)
    assert np.array_equal(a, eng.render(v))
    assert not np.array_equal(a, eng.render(replace(v, seed=7)))
    assert eng.describe()["upscale"] == "img2img the show's model"


def test_without_upscale_in_the_params_the_picture_stays_as_generated(x4_engine: Any) -> None:
    assert x4_engine.render(variation(upscale=1.0)).shape == (32, 32, 3)


def _stamp(eng: Any) -> str:
    return engine_stamp(eng.describe())


def test_a_missing_upscaler_falls_back_to_lanczos_loudly(
    tiny_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        eng = engine(tiny_model, replace(X4, model=tmp_path / "not-mounted"))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "not-mounted not found" in errors[0] and "Lanczos" in errors[0]
    image = eng.render(variation())  # the wall still gets its picture, at the output size
    assert image.shape == (64, 64, 3)
    assert eng.describe()["upscale"].startswith("FAIL: upscale.model")
    assert eng.name == "diffusers"  # the model itself still renders


def test_a_corrupt_upscaler_falls_back_and_changes_the_cache_key(
    x4_engine: Any, tiny_model: Path, tiny_upscaler: Path, copy_model: Any
) -> None:
    broken = copy_model(tiny_upscaler)
    weights = next((broken / "unet").glob("*.safetensors"))
    weights.write_bytes(b"not safetensors")
    eng = engine(tiny_model, replace(X4, model=broken))
    assert eng.describe()["upscale"].startswith("FAIL:")
    assert eng.render(variation()).shape == (64, 64, 3)
    v = variation()
    assert cache_key(v, _stamp(eng), "p") != cache_key(v, _stamp(x4_engine), "p")


def test_an_upscaler_failing_mid_run_renames_the_engine_so_the_cache_skips_its_pictures(
    tiny_model: Path, tiny_upscaler: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng = engine(tiny_model, replace(X4, model=tiny_upscaler))
    assert eng.name == "diffusers" and not eng.describe()["upscale"].startswith("FAIL")

    def out_of_memory(*_: object) -> None:
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(upscale.X4Upscaler, "upscale", out_of_memory)
    assert eng.render(variation()).shape == (64, 64, 3)  # Lanczos: the wall gets a picture
    assert eng.name == upscale.NOT_UPSCALED  # CachedWorker stores only its engine's results
    assert eng.describe()["upscale"].startswith("FAIL: failed on variation 3-5")


def test_a_base_model_folder_is_not_an_upscaler(tiny_model: Path) -> None:
    eng = engine(tiny_model, replace(X4, model=tiny_model))
    assert "expected a StableDiffusionUpscalePipeline" in eng.describe()["upscale"]


def test_upscale_settings_change_the_cache_key(x4_engine: Any, tiny_model: Path) -> None:
    v = variation()
    stamp = _stamp(x4_engine)
    assert cache_key(v, stamp, "p") != cache_key(variation(upscale=3.0), stamp, "p")
    other = dict(x4_engine.describe(), upscale_settings="x4 steps=3")
    assert cache_key(v, stamp, "p") != cache_key(v, engine_stamp(other), "p")
    plain = replace(v, params=replace(v.params, upscale=1.0, max_side=0))
    old = RenderParams(0.6, 2, 1.0, 32, 32)  # keys of shows without [upscale] are unchanged
    assert cache_key(plain, stamp, "p") == cache_key(replace(v, params=old), stamp, "p")


def test_the_fallback_engine_gives_the_output_size_too() -> None:
    assert FallbackEngine().render(variation()).shape == (64, 64, 3)


def test_the_tiny_upscaler_has_the_x4_layout(tiny_upscaler: Path) -> None:
    unet = json.loads((tiny_upscaler / "unet" / "config.json").read_text())
    index = json.loads((tiny_upscaler / "model_index.json").read_text())
    assert unet["in_channels"] == 7 and index["_class_name"] == "StableDiffusionUpscalePipeline"
    assert index["low_res_scheduler"][1] == "DDPMScheduler"
