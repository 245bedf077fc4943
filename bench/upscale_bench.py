"""Benchmark 11: the worker's upscale pass ([upscale]) per picture, tiny models on the CPU."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from bench.common import Result, ms_since, pct


def bench_upscale_pass(tmp: Path, repeats: int, model: Path) -> Result:
    """A 64x64 tiny-model picture to 128x128 (x2) and 256x256 (x4): the x4 upscaler, tiled
    img2img and Lanczos (the fallback and the display's way), one engine each, interleaved."""
    from installation.core.variations import RenderParams, Variation
    from installation.engines.build import build_engine
    from installation.engines.engine import EngineSpec, UpscaleSpec
    from installation.engines.images import enlarge
    from installation.models.tiny import make_tiny_upscaler

    x4_dir = tmp / "tiny-x4"
    if not (x4_dir / "model_index.json").is_file():
        make_tiny_upscaler(x4_dir)
    result = Result(
        "11",
        "Upscale pass in the worker (tiny random models, CPU)",
        "engine.render with [upscale] minus the bare render, per picture: 2 steps, tiles of "
        "128 overlapping 16; tiny random models on this CPU, not a real upscaler on a GPU "
        "(that is bench/gpu.py's). Median of the repeats.",
    )
    kinds = {
        "x4": UpscaleSpec("x4", x4_dir, steps=2, guidance=1.0, tile=128, overlap=16),
        "img2img": UpscaleSpec(
            "img2img", steps=2, guidance=1.0, strength=0.5, tile=128, overlap=16
        ),
    }
    plain = RenderParams(0.6, 2, 1.0, 64, 64)
    spec = EngineSpec(engine="diffusers", model=model, device="cpu")
    base = build_engine(spec)
    engines = {k: build_engine(replace(spec, upscale=u)) for k, u in kinds.items()}
    for scale in (2.0, 4.0):
        v = Variation((1,), "1", 1, 7, "a sea", "", replace(plain, upscale=scale))
        size = v.params.output_size()
        times: dict[str, list[float]] = {"render": [], "lanczos": [], **{k: [] for k in kinds}}
        for i in range(repeats):
            v = replace(v, seed=i)
            t0 = time.perf_counter()
            image = base.render(v)
            times["render"].append(ms_since(t0))
            t0 = time.perf_counter()
            enlarge(image, size)
            times["lanczos"].append(ms_since(t0))
            for k, eng in engines.items():
                t0 = time.perf_counter()
                eng.render(v)
                times[k].append(ms_since(t0))
        render = pct(times["render"], 50)
        label = f"64x64 -> {size[0]}x{size[1]}"
        result.add(f"{label}: bare render p50", render, "ms")
        result.add(f"{label}: Lanczos p50", pct(times["lanczos"], 50), "ms")
        for k in kinds:
            result.add(f"{label}: {k} pass p50", pct(times[k], 50) - render, "ms")
    result.samples = repeats * 2 * (2 + len(kinds))
    return result
