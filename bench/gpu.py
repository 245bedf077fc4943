"""GPU benchmark: SD-Turbo and SDXL-Turbo img2img at 512x512 on CUDA. Not run by CI.

Usage (local model folders only; nothing is downloaded):

    INSTALLATION_SD_TURBO=/srv/models/sd-turbo \
    INSTALLATION_SDXL_TURBO=/srv/models/sdxl-turbo \
    INSTALLATION_TAESD=/srv/models/taesd INSTALLATION_TAESDXL=/srv/models/taesdxl \
    python -m bench.gpu [--iterations 20] [--batch 4] [--json gpu.json]

For each model found: effective denoising steps 1-4 (strength 0.5, so 2-8 scheduler
steps), batch 1 and batched, in two set-ups: fp16, and fp16 + TAESD + torch.compile
(channels_last UNet, mode="reduce-overhead"). Reports latency per image, throughput and
peak VRAM. Without torch, CUDA or the weights it says why and exits 0 (a skip).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SIZE = 512
STRENGTH = 0.5
MODELS = {  # name: (model env var, tiny VAE env var)
    "sd-turbo": ("INSTALLATION_SD_TURBO", "INSTALLATION_TAESD"),
    "sdxl-turbo": ("INSTALLATION_SDXL_TURBO", "INSTALLATION_TAESDXL"),
}


@dataclass(frozen=True)
class GpuRow:
    model: str
    setup: str
    steps: int
    batch: int
    ms_per_image: float
    images_per_s: float
    vram_peak_mb: float


def why_skip() -> str | None:
    """None when a CUDA GPU is usable, else the reason to skip."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "no CUDA GPU (torch.cuda.is_available() is False)"
    return None


def folders() -> dict[str, tuple[Path, Path | None]]:
    """Models whose folders exist, with their tiny VAE folder if that exists too."""
    found = {}
    for name, (model_var, tae_var) in MODELS.items():
        model = os.environ.get(model_var)
        if not model or not (Path(model) / "model_index.json").is_file():
            print(f"{name}: skipped ({model_var} unset or not a diffusers folder)")
            continue
        tae = os.environ.get(tae_var)
        found[name] = (Path(model), Path(tae) if tae and Path(tae).is_dir() else None)
    return found


def load(model: Path, tae: Path | None, fast: bool) -> Any:
    import torch
    from diffusers import AutoencoderTiny, AutoPipelineForImage2Image

    extra: dict[str, Any] = {}
    if fast and tae is not None:
        extra["vae"] = AutoencoderTiny.from_pretrained(
            str(tae), dtype=torch.float16, local_files_only=True
        )
    pipe = AutoPipelineForImage2Image.from_pretrained(
        str(model), dtype=torch.float16, local_files_only=True, **extra
    ).to("cuda")
    pipe.set_progress_bar_config(disable=True)
    if fast:  # the engine's own CUDA step (tests/engines/test_compile_on_cpu.py runs it)
        from installation.engines.placement import cuda_unet

        cuda_unet(pipe, compile=True)
    return pipe


def measure(pipe: Any, steps: int, batch: int, iterations: int) -> tuple[float, float]:
    """(ms per image, peak VRAM MB) over `iterations` timed calls after warm-up."""
    import torch
    from PIL import Image

    image = Image.new("RGB", (SIZE, SIZE), (120, 90, 60))
    args = {
        "prompt": ["an oil painting of a die on a table"] * batch,
        "image": [image] * batch,
        "strength": STRENGTH,
        "num_inference_steps": max(1, round(steps / STRENGTH)),
        "guidance_scale": 0.0,
        "output_type": "np",
    }
    with torch.inference_mode():
        for _ in range(3):  # warm-up: cuDNN autotune, compile, CUDA graphs
            pipe(**args, generator=torch.Generator("cuda").manual_seed(0))
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for i in range(iterations):
            pipe(**args, generator=torch.Generator("cuda").manual_seed(i))
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return seconds * 1000 / (iterations * batch), torch.cuda.max_memory_allocated() / 2**20


def run(iterations: int, batch: int) -> list[GpuRow]:
    import torch

    rows = []
    for name, (model, tae) in folders().items():
        for fast in (False, True):
            setup = "fp16 + TAESD + compile" if fast else "fp16"
            if fast and tae is None:
                setup = "fp16 + compile (no TAESD folder)"
            pipe = load(model, tae, fast)
            for steps in (1, 2, 3, 4):
                for b in sorted({1, batch}):
                    ms, vram = measure(pipe, steps, b, iterations)
                    rows.append(GpuRow(name, setup, steps, b, ms, 1000 / ms, vram))
                    print(f"{name} | {setup} | {steps} | {b} | {ms:.1f} ms | {vram:.0f} MB")
            del pipe
            torch.cuda.empty_cache()
    return rows


def markdown(rows: list[GpuRow], gpu: str) -> str:
    lines = [
        f"GPU: {gpu}, {SIZE}x{SIZE} img2img, strength {STRENGTH}",
        "",
        "| model | setup | steps | batch | ms / image | images / s | peak VRAM MB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.setup} | {r.steps} | {r.batch} | {r.ms_per_image:.1f} "
            f"| {r.images_per_s:.1f} | {r.vram_peak_mb:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__)
    parser.add_argument("--iterations", type=int, default=20, help="timed calls per cell")
    parser.add_argument("--batch", type=int, default=4, help="the batched size (besides 1)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.batch < 1:
        parser.error("--iterations and --batch must be 1 or more")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    reason = why_skip()
    if reason:
        print(f"GPU benchmark skipped: {reason}")
        return 0
    rows = run(args.iterations, args.batch)
    if not rows:
        print("GPU benchmark skipped: no model folders (see python -m bench.gpu --help)")
        return 0
    import torch

    print(markdown(rows, torch.cuda.get_device_name(0)))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
