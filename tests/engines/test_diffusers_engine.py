"""DiffusersEngine on tiny random pipelines: real loading code, real pipelines, 64x64, 2 steps."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from installation.core.variations import RenderParams, Variation
from installation.engines.build import build_engine
from installation.engines.engine import EngineSpec
from installation.errors import EngineError, ModelError
from tests.engines.plain import fitted, plain_call

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from installation.engines.diffusers_engine import DiffusersEngine  # noqa: E402
from installation.engines.placement import check_tiny_vae  # noqa: E402

PARAMS = RenderParams(strength=0.6, steps=2, guidance=1.0, width=64, height=64)


def variation(seed: int = 1234, painting: int = 0, **params: Any) -> Variation:
    return Variation(
        faces=(3, 5),
        key="3-5",
        number=17,
        seed=seed,
        prompt="the sea at night",
        negative_prompt="blurry",
        params=replace(PARAMS, **params),
        painting=painting,
    )


def engine(model: Path, **spec: Any) -> DiffusersEngine:
    return DiffusersEngine(EngineSpec(engine="diffusers", model=model, **spec), warm_up=False)


# --- the three modes, against plain diffusers ------------------------------------------


def test_txt2img_matches_a_plain_diffusers_call_bit_for_bit(tiny_model: Path) -> None:
    eng = engine(tiny_model)
    image = eng.render(variation())
    assert eng.mode == "txt2img"
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    expected = plain_call("AutoPipelineForText2Image", tiny_model, variation(), width=64, height=64)
    assert np.array_equal(image, expected)


def test_img2img_matches_a_plain_diffusers_call_bit_for_bit(
    tiny_model: Path, paintings: tuple[Path, Path]
) -> None:
    eng = engine(tiny_model, paintings=paintings[:1])
    image = eng.render(variation())
    assert eng.describe()["pipeline"] == "StableDiffusionImg2ImgPipeline"
    expected = plain_call(
        "AutoPipelineForImage2Image",
        tiny_model,
        variation(),
        image=fitted(paintings[0]),
        strength=0.6,
    )
    assert np.array_equal(image, expected)


def test_inpaint_matches_a_plain_diffusers_call_bit_for_bit(
    tiny_inpaint_model: Path, paintings: tuple[Path, Path], mask: Path
) -> None:
    from PIL import Image

    eng = engine(tiny_inpaint_model, paintings=paintings[:1], mask=mask)
    image = eng.render(variation())
    assert eng.mode == "inpaint"
    assert eng.describe()["pipeline"] == "StableDiffusionInpaintPipeline"
    expected = plain_call(
        "AutoPipelineForInpainting",
        tiny_inpaint_model,
        variation(),
        image=fitted(paintings[0]),
        mask_image=Image.open(mask).convert("L"),
        strength=0.6,
        width=64,
        height=64,
    )
    assert np.array_equal(image, expected)


def test_same_variation_same_pixels_other_seed_other_pixels(tiny_model: Path) -> None:
    eng = engine(tiny_model)
    a, b, c = eng.render(variation(1)), eng.render(variation(1)), eng.render(variation(2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_the_painting_index_wraps_around_the_paintings(
    tiny_model: Path, paintings: tuple[Path, Path]
) -> None:
    eng = engine(tiny_model, paintings=paintings)
    first, second, third = (eng.render(variation(painting=i)) for i in (0, 1, 2))
    assert not np.array_equal(first, second)
    assert np.array_equal(first, third)


def test_the_render_size_follows_the_variation(tiny_model: Path, paintings: Any) -> None:
    eng = engine(tiny_model, paintings=paintings[:1])
    assert eng.render(variation(width=96, height=64)).shape == (64, 96, 3)


def test_a_mask_without_a_painting_is_refused(tiny_inpaint_model: Path, mask: Path) -> None:
    with pytest.raises(EngineError, match="mask is set but there is no painting"):
        engine(tiny_inpaint_model, mask=mask)


# --- validation -------------------------------------------------------------------------


def test_steps_times_strength_below_one_is_named_before_the_pipeline_runs(
    tiny_model: Path, paintings: Any
) -> None:
    eng = engine(tiny_model, paintings=paintings[:1])
    with pytest.raises(EngineError, match=r"steps x strength.*2 x 0.4.*at least 3"):
        eng.render(variation(strength=0.4))


def test_a_size_not_a_multiple_of_8_is_named(tiny_model: Path) -> None:
    with pytest.raises(EngineError, match="multiples of 8, got 60x64"):
        engine(tiny_model).render(variation(width=60))


def test_an_incomplete_folder_names_the_missing_component(
    tiny_model: Path, copy_model: Callable[[Path], Path]
) -> None:
    broken = copy_model(tiny_model)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ModelError, match=r"incomplete, missing: unet/ weights"):
        engine(broken)


def test_a_folder_without_model_index_is_not_a_model(
    tiny_model: Path, copy_model: Callable[[Path], Path]
) -> None:
    broken = copy_model(tiny_model)
    (broken / "model_index.json").unlink()
    with pytest.raises(ModelError, match=r"no model_index\.json"):
        engine(broken)


def test_a_repo_id_points_to_models_pull() -> None:
    with pytest.raises(ModelError, match="installation models pull stabilityai/sd-turbo"):
        engine(Path("stabilityai/sd-turbo"))


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        engine(tmp_path / "nowhere")


def test_a_single_file_needs_a_config_folder(tmp_path: Path, tiny_model: Path) -> None:
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(b"\0" * 16)
    with pytest.raises(ModelError, match=r"needs variations\.model_config_dir"):
        engine(ckpt)
    with pytest.raises(ModelError, match=r"has no model_index\.json"):
        engine(ckpt, model_config_dir=tmp_path)


def test_a_single_file_that_is_not_a_checkpoint_is_a_model_error(
    tmp_path: Path, tiny_model: Path
) -> None:
    ckpt = tmp_path / "empty.safetensors"
    ckpt.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")  # valid, holds no tensors
    with pytest.raises(ModelError, match=r"empty\.safetensors did not load: .*missing"):
        engine(ckpt, model_config_dir=tiny_model)


def test_a_corrupt_weights_file_is_a_model_error(
    tiny_model: Path, copy_model: Callable[[Path], Path]
) -> None:
    broken = copy_model(tiny_model)
    (broken / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="did not load"):
        engine(broken)


# --- tiny VAE ---------------------------------------------------------------------------


def test_a_tiny_vae_decodes_and_changes_the_fingerprint(
    tiny_model: Path, tiny_taesd: Path, paintings: Any
) -> None:
    plain = engine(tiny_model, paintings=paintings[:1])
    fast = engine(tiny_model, paintings=paintings[:1], tiny_vae=tiny_taesd)
    assert type(fast._pipe.vae).__name__ == "AutoencoderTiny"
    assert fast.render(variation()).shape == (64, 64, 3)
    assert fast.describe()["tiny_vae"] == "taesd"
    assert fast.describe()["fingerprint"] != plain.describe()["fingerprint"]


def test_a_tiny_vae_with_other_latent_channels_is_refused(
    tiny_model: Path, models_dir: Path
) -> None:
    from installation.models.tiny import make_tiny_vae

    taesd3 = models_dir / "taesd3"
    if not taesd3.exists():
        make_tiny_vae(taesd3, latent_channels=16)
    with pytest.raises(ModelError, match="16 latent channels but the model has 4"):
        engine(tiny_model, tiny_vae=taesd3)


@pytest.mark.parametrize(
    ("folder", "family", "words"),
    [("taesdxl", "SD1", "needs TAESD"), ("taesd", "SDXL", "needs TAESDXL")],
)
def test_taesd_and_taesdxl_are_not_interchangeable(
    tmp_path: Path, tiny_taesd: Path, folder: str, family: str, words: str
) -> None:
    tae = tmp_path / folder
    tae.mkdir()
    (tae / "config.json").write_text((tiny_taesd / "config.json").read_text())
    vae_config = {"latent_channels": 4, "block_out_channels": [32, 64]}
    with pytest.raises(ModelError, match=words):
        check_tiny_vae(tae, vae_config, family)
    check_tiny_vae(tae, vae_config, "tiny (SD1 layout)")  # unknown family: no name check


def test_a_full_vae_given_as_tiny_vae_is_refused(tiny_model: Path) -> None:
    with pytest.raises(ModelError, match="is a AutoencoderKL, expected AutoencoderTiny"):
        engine(tiny_model, tiny_vae=tiny_model / "vae")


# --- device, compile, OOM, warm-up, describe ---------------------------------------------


def test_cpu_runs_fp32_and_ignores_compile_with_a_warning(
    tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if torch.cuda.is_available():
        pytest.skip("this checks the CPU path")
    with caplog.at_level(logging.WARNING):
        eng = engine(tiny_model, device="auto", compile=True)
    d = eng.describe()
    assert (d["device"], d["dtype"], d["compile"]) == ("cpu", "float32", "off")
    assert "compile is ignored on cpu" in caplog.text


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(tiny_model: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(EngineError, match="torch sees no CUDA GPU"):
        engine(tiny_model, device="cuda")


def test_gpu_out_of_memory_becomes_a_clear_engine_error(tiny_model: Path) -> None:
    eng = engine(tiny_model)

    def out_of_memory(**_: Any) -> Any:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    eng._pipe = out_of_memory
    with pytest.raises(EngineError, match=r"GPU out of memory rendering 64x64 at 2 steps: CUDA"):
        eng.render(variation())


def test_warm_up_renders_the_specs_warmup_variations(tiny_model: Path) -> None:
    calls: list[Variation] = []

    class Counting(DiffusersEngine):
        def render(self, v: Variation) -> np.ndarray:
            calls.append(v)
            return super().render(v)

    warm = (variation(5), variation(6, steps=1))
    Counting(EngineSpec(model=tiny_model, warmup=warm))
    assert calls == list(warm)
    calls.clear()
    Counting(EngineSpec(model=tiny_model))
    assert len(calls) == 1  # the default small warm-up image


def test_describe_names_model_versions_and_a_stable_fingerprint(
    tiny_model: Path, copy_model: Callable[[Path], Path]
) -> None:
    import diffusers

    d = engine(tiny_model).describe()
    assert d["model"] == "tiny-sd" and d["engine"] == "diffusers"
    assert d["diffusers"] == diffusers.__version__ and d["torch"] == torch.__version__
    copy = copy_model(tiny_model)  # new mtimes, same content: same fingerprint
    assert engine(copy).describe()["fingerprint"] == d["fingerprint"]
    config = copy / "scheduler" / "scheduler_config.json"
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "beta_end": 0.013}))
    assert engine(copy).describe()["fingerprint"] != d["fingerprint"]


def test_build_engine_picks_diffusers_and_falls_back_on_a_broken_model(
    tiny_model: Path, tmp_path: Path
) -> None:
    spec = EngineSpec(engine="diffusers", model=tiny_model)
    assert build_engine(spec).name == "diffusers"
    broken = EngineSpec(engine="auto", model=tmp_path / "missing")
    assert build_engine(broken).name == "fallback"


@pytest.mark.gpu
def test_cuda_fp16_channels_last_renders(tiny_model: Path, paintings: Any) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    eng = engine(tiny_model, paintings=paintings[:1], device="cuda")
    assert eng.describe()["dtype"] == "float16"
    assert eng._pipe.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    image = eng.render(variation())
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8


@pytest.mark.gpu
def test_cuda_compile_flag_is_honoured(tiny_model: Path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    eng = engine(tiny_model, device="cuda", compile=True)
    assert eng.describe()["compile"] == "on"
    assert eng.render(variation()).shape == (64, 64, 3)
