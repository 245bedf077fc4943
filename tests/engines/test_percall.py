"""engines/percall.py on the tiny pipeline: the execution device pinned and the prompt's
embeddings kept, and the pixels still identical to a plain diffusers call, also from kept
embeddings, with guidance on and off."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from installation.core.variations import RenderParams, Variation
from installation.engines.engine import EngineSpec
from tests.engines.plain import fitted, plain_call

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from installation.engines.diffusers_engine import DiffusersEngine  # noqa: E402
from installation.engines.percall import (  # noqa: E402
    KeptEncodings,
    PromptEmbeddings,
    has_hooks,
    pin_execution_device,
)

PARAMS = RenderParams(strength=0.6, steps=2, guidance=1.0, width=64, height=64)


def variation(prompt: str = "the sea at night", negative: str = "", **params: Any) -> Variation:
    return Variation(
        faces=(3, 5),
        key="3-5",
        number=17,
        seed=1234,
        prompt=prompt,
        negative_prompt=negative,
        params=replace(PARAMS, **params),
    )


def engine(model: Path, **spec: Any) -> DiffusersEngine:
    return DiffusersEngine(EngineSpec(engine="diffusers", model=model, **spec), warm_up=False)


@pytest.mark.parametrize(
    ("guidance", "negative"), [(1.0, ""), (3.0, ""), (3.0, "blurry, dark")], ids=str
)
def test_img2img_from_kept_embeddings_matches_plain_diffusers(
    tiny_model: Path, paintings: tuple[Path, Path], guidance: float, negative: str
) -> None:
    eng = engine(tiny_model, paintings=paintings[:1])
    v = variation(negative=negative, guidance=guidance)
    expected = plain_call(
        "AutoPipelineForImage2Image", tiny_model, v, image=fitted(paintings[0]), strength=0.6
    )
    first = eng.render(v)  # encodes the prompt
    other = eng.render(variation("a field of wheat", negative=negative, guidance=guidance))
    again = eng.render(v)  # from the kept embeddings
    assert eng.pinned and eng.prompts.enabled
    assert (eng.prompts.misses, eng.prompts.hits) == (2, 1)
    assert eng.encodings is not None  # the painting was encoded once, then kept
    assert (eng.encodings.misses, eng.encodings.hits) == (1, 2)
    assert np.array_equal(first, expected)
    assert np.array_equal(again, expected)
    assert not np.array_equal(other, expected)  # the prompt still matters


def test_txt2img_with_guidance_from_kept_embeddings_matches_plain_diffusers(
    tiny_model: Path,
) -> None:
    eng = engine(tiny_model)
    v = variation(negative="blurry", guidance=4.0)
    expected = plain_call("AutoPipelineForText2Image", tiny_model, v, width=64, height=64)
    assert np.array_equal(eng.render(v), expected)
    assert np.array_equal(eng.render(v), expected)
    assert eng.prompts.hits == 1


def test_guidance_on_and_off_are_kept_apart(tiny_model: Path) -> None:
    """The same prompt with and without guidance needs the negative embeddings only once."""
    eng = engine(tiny_model)
    off = eng.call_args(variation(guidance=1.0))
    on = eng.call_args(variation(guidance=3.0))
    assert "negative_prompt_embeds" not in off
    assert on["negative_prompt_embeds"].shape == on["prompt_embeds"].shape
    assert off["prompt"] is None and off["negative_prompt"] is None
    assert eng.prompts.misses == 2


def test_only_the_most_recent_prompts_are_kept(tiny_model: Path) -> None:
    eng = engine(tiny_model)
    prompts = PromptEmbeddings(eng.pipe, "cpu", keep=2)
    for text in ("one", "two", "one", "three", "two"):
        prompts.args(text, None, 1.0)
    # one, two: misses; one: hit (two is now the oldest); three evicts two; two: a miss
    assert (prompts.misses, prompts.hits, len(prompts)) == (4, 1, 2)


def test_other_pipelines_get_the_prompt_as_text() -> None:
    class StableDiffusionXLImg2ImgPipeline:  # encode_prompt returns pooled embeddings too
        pass

    prompts = PromptEmbeddings(StableDiffusionXLImg2ImgPipeline(), "cpu")
    assert not prompts.enabled
    assert prompts.args("sea", "dark", 5.0) == {"prompt": "sea", "negative_prompt": "dark"}


def test_the_pinned_device_is_the_one_diffusers_finds(tiny_model: Path) -> None:
    from diffusers import AutoPipelineForImage2Image

    eng = engine(tiny_model, paintings=())
    pipe = AutoPipelineForImage2Image.from_pretrained(str(tiny_model), local_files_only=True)
    name, before = type(pipe).__name__, pipe._execution_device
    assert not has_hooks(pipe) and pin_execution_device(pipe)
    assert type(pipe).__name__ == name and pipe._execution_device == before
    assert isinstance(pipe, AutoPipelineForImage2Image.from_pipe(pipe).__class__)
    assert eng.describe()["pipeline"] == "StableDiffusionPipeline"  # the name is unchanged


def test_a_pipeline_with_offloading_hooks_is_not_pinned(tiny_model: Path) -> None:
    from diffusers import AutoPipelineForText2Image
    from diffusers.hooks import apply_group_offloading

    pipe = AutoPipelineForText2Image.from_pretrained(str(tiny_model), local_files_only=True)
    cls = type(pipe)
    cpu = torch.device("cpu")
    apply_group_offloading(
        pipe.unet, onload_device=cpu, offload_device=cpu, offload_type="block_level",
        num_blocks_per_group=1,
    )  # fmt: skip
    assert has_hooks(pipe)
    assert not pin_execution_device(pipe)
    assert type(pipe) is cls


def test_inpainting_from_kept_encodings_matches_plain_diffusers(
    tiny_inpaint_model: Path, paintings: tuple[Path, Path], mask: Path
) -> None:
    """Inpainting encodes two inputs per call (the painting, the masked painting)."""
    from PIL import Image

    eng = engine(tiny_inpaint_model, paintings=paintings[:1], mask=mask)
    v = variation(guidance=2.0)
    expected = plain_call(
        "AutoPipelineForInpainting",
        tiny_inpaint_model,
        v,
        image=fitted(paintings[0]),
        mask_image=Image.open(mask).convert("L"),
        strength=0.6,
        width=64,
        height=64,
    )
    assert np.array_equal(eng.render(v), expected)
    assert np.array_equal(eng.render(replace(v, prompt="a field of wheat")), expected) is False
    assert np.array_equal(eng.render(v), expected)
    assert eng.encodings is not None and eng.encodings.misses == 2 and eng.encodings.hits == 4


def test_a_tiny_vae_from_kept_encodings_matches_its_own_first_encoding(
    tiny_model: Path, paintings: tuple[Path, Path], tiny_taesd: Path
) -> None:
    """TAESD's encode has no distribution: its latents are kept the same way."""
    eng = engine(tiny_model, paintings=paintings[:1], tiny_vae=tiny_taesd)
    v = variation()
    first, again = eng.render(v), eng.render(v)
    assert eng.encodings is not None and eng.encodings.hits == 1
    del eng.pipe.vae.encode  # the VAE's own method again: every call encodes
    assert np.array_equal(first, again) and np.array_equal(eng.render(v), first)


def test_another_size_or_painting_is_encoded_and_only_the_last_few_are_kept() -> None:
    calls: list[tuple[int, ...]] = []

    def encode(x: Any, return_dict: bool = True) -> Any:
        calls.append(tuple(x.shape))
        return ("latents", x.sum().item(), return_dict)

    kept = KeptEncodings(encode, keep=2)
    a, b, c = torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8), torch.zeros(1, 3, 16, 16)
    assert kept(a) == ("latents", 0.0, True)
    kept(a.clone())  # equal values: kept
    kept(a, return_dict=False)  # the other return type: encoded
    b_out = kept(b)  # a (as a dict) was the oldest: dropped
    kept(c)
    assert len(calls) == 4 and len(kept) == 2
    assert kept(c) is not None and kept(b) == b_out and len(calls) == 4
    a2 = a.clone()
    a2[0, 0, 0, 0] = 1e-30  # one value differs: encoded
    kept(a2)
    assert len(calls) == 5 and (kept.hits, kept.misses) == (3, 5)
