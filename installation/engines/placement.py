"""Where and how the diffusers pipeline runs: the device and dtype, the CPU threads left
to the wall, the CUDA path's UNet preparation, and whether a TAESD folder fits the model
(split from diffusers_engine.py; torch is imported inside each function, so importing
this module stays cheap)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from installation.errors import EngineError, ModelError
from installation.models.folders import read_json


def pick_device(requested: str) -> tuple[str, Any]:
    """(device, dtype): auto means cuda when available; fp16 on cuda, fp32 on cpu."""
    import torch

    if requested not in ("auto", "cuda", "cpu"):
        raise EngineError(f"engine.device must be auto, cuda or cpu, got {requested!r}")
    if requested == "cuda" and not torch.cuda.is_available():
        raise EngineError("engine.device is cuda but torch sees no CUDA GPU; use auto or cpu")
    device = (
        "cuda"
        if requested == "cuda" or (requested == "auto" and torch.cuda.is_available())
        else "cpu"
    )
    return device, torch.float16 if device == "cuda" else torch.float32


def leave_a_core_for_the_wall() -> int:
    """On the CPU, torch takes every core by default and the kiosk's frame loop (another
    process) then stutters; render on all cores but one. Returns the thread count."""
    import torch

    threads = max(1, (os.cpu_count() or 1) - 1)
    if "OMP_NUM_THREADS" not in os.environ:  # an explicit setting wins
        torch.set_num_threads(threads)
    return int(torch.get_num_threads())


def check_tiny_vae(tiny_vae: Path, model_vae_config: dict[str, Any], family: str) -> None:
    """ModelError when the TAESD folder cannot decode this model's latents.

    The configs of TAESD (SD 1/2) and TAESDXL are identical, so the family is checked by
    name: a TAE folder named for the other family is refused. Latent channels (TAESD3 and
    TAEF1 have 16) and the down-scaling factor are checked from the configs.
    """
    config_path = Path(tiny_vae) / "config.json"
    if not config_path.is_file():
        raise ModelError(
            f"engine.tiny_vae {tiny_vae} has no config.json (an AutoencoderTiny folder)"
        )
    tae = read_json(config_path)
    if tae.get("_class_name") != "AutoencoderTiny":
        raise ModelError(
            f"engine.tiny_vae {tiny_vae} is a {tae.get('_class_name')}, expected AutoencoderTiny"
        )
    want, got = model_vae_config.get("latent_channels", 4), tae.get("latent_channels", 4)
    if want != got:
        raise ModelError(
            f"engine.tiny_vae {tiny_vae.name} has {got} latent channels but the model has {want}: "
            "use TAESD for SD 1/2, TAESDXL for SDXL (4 channels); TAESD3/TAEF1 have 16"
        )
    scale = len(model_vae_config.get("block_out_channels", [0] * 4))
    tae_scale = len(tae.get("decoder_block_out_channels", [0] * 4))  # type: ignore[arg-type]
    if scale != tae_scale:
        raise ModelError(
            f"engine.tiny_vae {tiny_vae.name} scales latents by 2**{tae_scale - 1}, "
            f"the model's VAE by 2**{scale - 1}: they belong to different models"
        )
    name = tiny_vae.name.lower()
    says_xl = "xl" in name
    if family == "SDXL" and "taesd" in name and not says_xl:
        raise ModelError(
            f"engine.tiny_vae {tiny_vae.name} looks like TAESD (SD 1/2); this SDXL "
            "model needs TAESDXL"
        )
    if family in ("SD1", "SD2") and says_xl:
        raise ModelError(
            f"engine.tiny_vae {tiny_vae.name} looks like TAESDXL; this {family} model needs TAESD"
        )


def cuda_unet(pipe: Any, *, compile: bool) -> bool:
    """The CUDA path's UNet: channels_last, and torch.compile (reduce-overhead: CUDA graphs)
    with engine.compile; True when compiled. Device-neutral: tests run it on the CPU."""
    import torch

    pipe.unet.to(memory_format=torch.channels_last)
    if compile:
        pipe.unet = torch.compile(pipe.unet, mode="reduce-overhead", fullgraph=False)
    return compile
