"""The CUDA path's UNet preparation, run on the CPU: channels_last and torch.compile.

What runs here is everything the CUDA path shares with the CPU: the memory-format change,
dynamo tracing the real diffusers UNet (guards, graph breaks with fullgraph=False) and
AOTAutograd. The compile call is redirected to the `aot_eager` backend: the inductor
backend's code generation is device-specific (Triton kernels and CUDA graphs on a GPU, C++
on the CPU) and on these 2-core machines its CPU build of the tiny UNet alone took minutes
(414 s with load 8; aot_eager: 73 s wall, 34 s CPU under the same load). Only the CUDA
kernels themselves are left for bench/gpu.py on a GPU machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from installation.core.variations import RenderParams, Variation  # noqa: E402
from installation.engines.diffusers_engine import DiffusersEngine  # noqa: E402
from installation.engines.engine import EngineSpec  # noqa: E402
from installation.engines.placement import cuda_unet  # noqa: E402

V = Variation((2, 6), "2-6", 3, 4321, "a lighthouse", "", RenderParams(0.5, 2, 1.0, 64, 64))


@pytest.mark.slow
def test_the_cuda_unet_path_compiles_on_cpu_and_keeps_the_pixels(
    tiny_model: Path, paintings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = DiffusersEngine(
        EngineSpec(engine="diffusers", model=tiny_model, paintings=paintings[:1]), warm_up=False
    )
    eager = engine.render(V)
    asked: list[dict[str, Any]] = []
    real_compile = torch.compile

    def compile_here(model: Any, **kw: Any) -> Any:
        asked.append(kw)
        return real_compile(model, backend="aot_eager", fullgraph=kw["fullgraph"])

    monkeypatch.setattr(torch, "compile", compile_here)
    pipe = engine._pipe
    try:
        assert cuda_unet(pipe, compile=True) is True
        assert asked == [{"mode": "reduce-overhead", "fullgraph": False}]
        unet = pipe.unet
        assert unet is not None and hasattr(unet, "_orig_mod")  # dynamo's wrapper
        assert unet._orig_mod.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
        compiled = engine.render(V)
        # channels_last and the traced graph sum in another order: a few values move by a
        # level (measured: max 1, 0.01% of values), so cached images match only their path
        diff = np.abs(compiled.astype(int) - eager)
        assert diff.max() <= 2 and np.mean(diff > 0) < 0.05, (diff.max(), np.mean(diff > 0))
        assert np.array_equal(engine.render(V), compiled)  # the compiled path is deterministic
    finally:
        torch._dynamo.reset()
