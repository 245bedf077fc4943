"""Tiny random Stable Diffusion pipelines and safety checkers, built offline.

Why: tests and rehearsals need a real diffusers pipeline (real loading code, real
schedulers, real determinism) without downloading gigabytes. Every component is built
from a small seeded config; the CLIP tokenizer is written from a small byte-level vocab.
Nothing here ever touches the network. A pipeline folder is about 9 MB.

A checker that always flags (for tests of the re-roll path): `make_tiny_safety_checker(
dest, always_flag=True)` sets every concept threshold (`concept_embeds_weights`) to -2.
Cosine similarity is never below -1, so every concept score (cos - threshold) is > 0
and every image is flagged. With the default thresholds of 2 nothing is ever flagged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from installation.models.folders import ensure_offline

TOKENIZER_MERGES = ("t h", "th e</w>", "a n", "p a", "i n", "o n</w>")
TINY_SIZE = 64  # the images the tiny pipeline is meant for (any multiple of 8 works)


def _bytes_to_unicode() -> list[str]:
    """GPT-2's byte -> printable unicode mapping: the base alphabet of CLIP's BPE."""
    keep = list(range(ord("!"), ord("~") + 1))
    keep += list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = [], 0
    for b in range(256):
        if b in keep:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def write_tiny_tokenizer(dest: Path) -> Path:
    """Write vocab.json + merges.txt for a CLIPTokenizer with a ~520-token vocabulary."""
    dest.mkdir(parents=True, exist_ok=True)
    base = _bytes_to_unicode()
    tokens = base + [c + "</w>" for c in base]
    tokens += ["".join(m.split()) for m in TOKENIZER_MERGES]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    (dest / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    merges = "#version: 0.2\n" + "\n".join(TOKENIZER_MERGES) + "\n"
    (dest / "merges.txt").write_text(merges, encoding="utf-8")
    return dest


def _unet(in_channels: int, **extra: Any) -> Any:
    """The tiny UNet: 4 latent channels in (9 for inpainting, 7 for the x4 upscaler)."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=32,
        in_channels=in_channels,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=32,
        **extra,
    )


def _vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=32,
        sample_size=64,
    )


def _text_model(tokenizer: Any) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=1000,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        layer_norm_eps=1e-5,
    )
    return CLIPTextModel(config)


def _scheduler() -> Any:
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def _components(workdir: Path, inpaint: bool) -> dict[str, Any]:
    """All five SD components, built from seeded random weights."""
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(
        str(write_tiny_tokenizer(workdir)), model_max_length=77
    )
    return {
        "unet": _unet(9 if inpaint else 4),
        "vae": _vae(),
        "text_encoder": _text_model(tokenizer),
        "tokenizer": tokenizer,
        "scheduler": _scheduler(),
    }


def make_tiny_pipeline(
    dest: Path, *, inpaint: bool = False, safety: bool = False, seed: int = 0
) -> Path:
    """Build and save a tiny random SD 1.x-layout pipeline into `dest`; returns `dest`.

    inpaint: a StableDiffusionInpaintPipeline (UNet in_channels=9).
    safety: also save a tiny (never-flagging) safety checker + feature extractor
    inside the folder, as a real SD 1.x repo does.
    """
    ensure_offline()
    import tempfile

    import torch
    from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

    torch.manual_seed(seed)
    dest = Path(dest)
    with tempfile.TemporaryDirectory() as tmp:
        parts = _components(Path(tmp), inpaint)
    checker, extractor = _safety_parts(always_flag=False) if safety else (None, None)
    cls: Any = StableDiffusionInpaintPipeline if inpaint else StableDiffusionPipeline
    pipe = cls(
        **parts,
        safety_checker=checker,
        feature_extractor=extractor,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(dest), safe_serialization=True)
    return dest


def _safety_parts(always_flag: bool) -> tuple[Any, Any]:
    """A tiny StableDiffusionSafetyChecker and the CLIPImageProcessor it needs."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    config = CLIPConfig(
        text_config={
            "bos_token_id": 998,
            "eos_token_id": 999,
            "pad_token_id": 1,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "vocab_size": 1000,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 4,
        },
        projection_dim=32,
    )
    checker = StableDiffusionSafetyChecker(config)
    threshold = -2.0 if always_flag else 2.0
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(threshold)
        checker.special_care_embeds_weights.fill_(threshold)
    extractor = CLIPImageProcessor(
        crop_size={"height": 32, "width": 32}, size={"shortest_edge": 32}
    )
    return checker.eval(), extractor


def make_tiny_safety_checker(dest: Path, *, always_flag: bool = False, seed: int = 0) -> Path:
    """Save a tiny safety checker folder: `safety_checker/` and `feature_extractor/` in `dest`.

    always_flag=True makes a checker that flags every image (see the module docstring).
    """
    ensure_offline()
    import torch

    torch.manual_seed(seed)
    dest = Path(dest)
    checker, extractor = _safety_parts(always_flag)
    checker.save_pretrained(str(dest / "safety_checker"), safe_serialization=True)
    extractor.save_pretrained(str(dest / "feature_extractor"))
    return dest


def make_tiny_vae(dest: Path, *, latent_channels: int = 4, seed: int = 0) -> Path:
    """Save a tiny AutoencoderTiny (TAESD layout) that fits the tiny pipeline (scale 2).

    Name the folder like the real thing ('taesd', 'taesdxl') to exercise the family checks.
    """
    ensure_offline()
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    tae: Any = AutoencoderTiny(
        encoder_block_out_channels=(32, 32),
        decoder_block_out_channels=(32, 32),
        num_encoder_blocks=(1, 2),
        num_decoder_blocks=(2, 1),
        latent_channels=latent_channels,
    )
    tae.save_pretrained(str(dest), safe_serialization=True)
    return Path(dest)


MAX_NOISE_LEVEL = 350  # the real x4 upscaler's (its UNet has 1000 class embeddings)


def make_tiny_upscaler(dest: Path, *, seed: int = 0) -> Path:
    """Build and save a tiny random StableDiffusionUpscalePipeline (the x4 upscaler's
    layout: a UNet taking 7 channels, 4 latent + the 3 of the low-res picture, with the
    noise level as its class label; a VAE that scales by 4; DDPM low-res scheduler)."""
    ensure_offline()
    import tempfile

    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
    )
    from transformers import CLIPTokenizer

    torch.manual_seed(seed)
    unet = _unet(7, num_class_embeds=MAX_NOISE_LEVEL + 1)
    vae = AutoencoderKL(
        block_out_channels=(32, 32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=32,
        sample_size=64,
        scaling_factor=0.08333,  # the real x4 upscaler's
    )
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(
            str(write_tiny_tokenizer(Path(tmp))), model_max_length=77
        )
    pipe = StableDiffusionUpscalePipeline(
        vae=vae,
        text_encoder=_text_model(tokenizer),
        tokenizer=tokenizer,
        unet=unet,
        low_res_scheduler=DDPMScheduler(beta_schedule="scaled_linear"),
        scheduler=DDIMScheduler(prediction_type="v_prediction", beta_schedule="scaled_linear"),
        max_noise_level=MAX_NOISE_LEVEL,
    )
    pipe.save_pretrained(str(dest), safe_serialization=True)
    return Path(dest)
