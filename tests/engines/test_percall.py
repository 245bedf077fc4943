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
    keep_encodings,
    keep_for,
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


class FakeVae:
    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []

    def encode(self, x: Any, return_dict: bool = True) -> Any:
        self.calls.append(tuple(x.shape))
        return ("latents", x.sum().item(), return_dict)


def test_another_size_or_painting_is_encoded_and_only_the_last_few_are_kept() -> None:
    vae = FakeVae()
    kept = keep_encodings(vae, keep=2)
    a, b, c = torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8), torch.zeros(1, 3, 16, 16)
    with kept.active():
        assert vae.encode(a) == ("latents", 0.0, True)
        vae.encode(a.clone())  # equal values: kept
        vae.encode(a, return_dict=False)  # the other return type: encoded
        b_out = vae.encode(b)  # a (as a dict) was the oldest: dropped
        vae.encode(c)
        assert len(vae.calls) == 4 and len(kept) == 2
        assert vae.encode(c) is not None and vae.encode(b) == b_out and len(vae.calls) == 4
        a2 = a.clone()
        a2[0, 0, 0, 0] = 1e-30  # one value differs: encoded
        vae.encode(a2)
    assert len(vae.calls) == 5 and (kept.hits, kept.misses) == (3, 5)


def test_outside_the_engines_render_encodings_pass_through_untouched() -> None:
    """The upscale pass shares the VAE: its tiles neither hit nor push the painting out."""
    vae = FakeVae()
    kept = keep_encodings(vae, keep=1)
    painting, tile = torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8)
    with kept.active():
        vae.encode(painting)
    vae.encode(tile)
    vae.encode(painting)  # not active: encoded again, nothing looked up or kept
    with kept.active():
        vae.encode(painting)
    assert len(vae.calls) == 3 and (kept.hits, kept.misses, len(kept)) == (1, 1, 1)


def test_the_kept_encodings_do_not_keep_a_dropped_vae_alive() -> None:
    import gc
    import weakref

    vae = FakeVae()
    keep_encodings(vae)
    gone = weakref.ref(vae)
    gc.disable()  # only reference counting: a cycle would keep it
    try:
        del vae
        assert gone() is None
    finally:
        gc.enable()


def test_the_kept_encodings_stay_within_their_memory_budget() -> None:
    """Big inputs (1024x1024 in fp32 is 12 MB) keep fewer entries than the count allows."""
    vae = FakeVae()
    kept = KeptEncodings(vae.encode, keep=16, budget_mb=1.0)  # 2 x 192 KB per entry
    with kept.active():
        for value in range(6):
            kept(torch.full((1, 3, 128, 128), float(value)))  # 192 KB each
        assert len(kept) == 2 and kept.nbytes == 2 * 3 * 128 * 128 * 4
        kept(torch.zeros(1, 3, 512, 512))  # 3 MB: over the budget alone, not kept
    assert len(kept) == 2 and len(vae.calls) == 7


def test_two_encodings_are_kept_per_painting_within_bounds() -> None:
    assert [keep_for(n) for n in (0, 1, 2, 3, 8, 50)] == [4, 4, 4, 6, 16, 16]


def test_the_upscale_pass_leaves_the_paintings_encoding_kept(
    tiny_model: Path, paintings: tuple[Path, Path]
) -> None:
    from installation.engines.build import build_engine
    from installation.engines.engine import UpscaleSpec

    tiles = UpscaleSpec(mode="img2img", steps=2, guidance=1.0, strength=0.5, tile=32, overlap=8)
    spec = EngineSpec(engine="diffusers", model=tiny_model, paintings=paintings[:1],
                      device="cpu", upscale=tiles, warmup=())  # fmt: skip
    eng = build_engine(spec)
    v = variation(width=32, height=32, upscale=2.0, max_side=2048)
    first = eng.render(v)  # the painting encoded, then 4 tiles of 32 through the same VAE
    assert first.shape == (64, 64, 3) and np.array_equal(eng.render(v), first)
    kept = eng.base.encodings
    # kept: the warm-up's 64x64 painting and this 32x32 one; no tile (4 would push it out)
    assert (kept.misses, kept.hits, len(kept)) == (2, 1, 2)
