"""The Stable Diffusion engine: local files only, one pipeline, explicit seeds.

Built inside the worker process from an EngineSpec. It loads the model once (a diffusers
folder, or a single-file checkpoint plus its config folder), derives the pipeline for the
show's mode with from_pipe (img2img from the paintings, inpainting with a mask,
text-to-image without paintings), and renders every Variation with batch size 1 and a CPU
generator seeded from variation.seed, so the same variation gives the same pixels on the
same machine. Every image passes our own safety check when one is configured.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from installation.core.variations import RenderParams, Variation
from installation.engines.engine import EngineSpec
from installation.errors import EngineError, ModelError, UnsafeImage
from installation.models.folders import (
    ensure_offline,
    guess_family,
    model_fingerprint,
    read_json,
    require_model,
)

ensure_offline()  # before diffusers/huggingface_hub are imported anywhere below

from installation.engines.percall import (  # noqa: E402
    KeptEncodings,
    PromptEmbeddings,
    keep_encodings,
    keep_for,
    pin_execution_device,
)
from installation.engines.placement import (  # noqa: E402
    check_tiny_vae,
    cuda_unet,
    leave_a_core_for_the_wall,
    pick_device,
)

log = logging.getLogger(__name__)

WARMUP = Variation(
    faces=(1,),
    key="warm-up",
    number=0,
    seed=0,
    prompt="warm-up",
    negative_prompt="",
    params=RenderParams(strength=0.5, steps=2, guidance=1.0, width=64, height=64),
)


def mode_for(spec: EngineSpec) -> str:
    """txt2img without paintings, inpaint with a mask, img2img otherwise."""
    if spec.mask is not None:
        if not spec.paintings:
            raise EngineError("artwork.mask is set but there is no painting to inpaint")
        return "inpaint"
    return "img2img" if spec.paintings else "txt2img"


class DiffusersEngine:
    """Engine backed by a local diffusers pipeline (see the module docstring)."""

    name = "diffusers"

    def __init__(self, spec: EngineSpec, *, warm_up: bool = True) -> None:
        start = time.perf_counter()
        self.spec = spec
        self.mode = mode_for(spec)
        report = require_model(spec.model, spec.model_config_dir)
        self._config_dir = Path(spec.model_config_dir or spec.model)  # type: ignore[arg-type]
        self.family = (
            report.family if report.kind == "diffusers folder" else _family(self._config_dir)
        )
        if spec.tiny_vae is not None:
            vae_cfg = read_json(self._config_dir / "vae" / "config.json")
            check_tiny_vae(Path(spec.tiny_vae), vae_cfg, self.family)
        self.device, self.dtype = pick_device(spec.device)
        # the same thread count wherever the engine runs (worker, preview, prerender), so
        # their pixels agree; on the CPU one core stays free for the display loop
        self.threads = leave_a_core_for_the_wall() if self.device == "cpu" else 0
        self.compiled = False
        _quiet_progress_bars()
        self._pipe = self._load()
        # what a plain call redoes every time, done once here (engines/percall.py)
        self.pinned = pin_execution_device(self._pipe)
        if not self.pinned:
            log.info("the pipeline has hooks: its execution device is looked up every call")
        self.prompts = PromptEmbeddings(self._pipe, self.device)
        self.encodings: KeptEncodings | None = None
        if self.mode != "txt2img":
            self.encodings = keep_encodings(self._pipe.vae, keep_for(len(spec.paintings)))
        from installation.engines.safety import load_safety_checker

        self._safety = load_safety_checker(
            spec.safety_checker,
            required=spec.safety_required,
            device=self.device,
            dtype=self.dtype,
        )
        self._paintings: dict[tuple[int, int, int], Any] = {}
        self._fingerprint = _fingerprint(spec)
        self.load_seconds = time.perf_counter() - start
        if warm_up:
            self.warm_up()

    # loading -----------------------------------------------------------------

    def _load(self) -> Any:
        """Load the base pipeline once and derive the mode's pipeline from it (shared modules)."""
        from diffusers import (
            AutoPipelineForImage2Image,
            AutoPipelineForInpainting,
            AutoPipelineForText2Image,
        )

        extra: dict[str, Any] = {"dtype": self.dtype, "local_files_only": True}
        index = read_json(self._config_dir / "model_index.json")
        if "safety_checker" in index:  # we run our own checker on the finished image
            extra.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
        if self.spec.tiny_vae is not None:
            extra["vae"] = self._load_tiny_vae()
        try:
            base = self._from_files(index, extra)
        except ModelError:
            raise
        except Exception as e:  # any failure reading model files is a model problem
            first = (str(e).strip().splitlines() or [""])[0]
            raise ModelError(
                f"model {self.spec.model} did not load: {type(e).__name__}: {first}"
            ) from e
        auto = {
            "txt2img": AutoPipelineForText2Image,
            "img2img": AutoPipelineForImage2Image,
            "inpaint": AutoPipelineForInpainting,
        }[self.mode]
        pipe = auto.from_pipe(base)
        pipe.set_progress_bar_config(disable=True)
        return self._place(pipe)

    def _from_files(self, index: dict[str, Any], extra: dict[str, Any]) -> Any:
        import diffusers

        model = Path(self.spec.model)  # type: ignore[arg-type]
        if model.is_file():
            cls = getattr(diffusers, str(index.get("_class_name")), None)
            if cls is None or not hasattr(cls, "from_single_file"):
                raise ModelError(
                    f"model_config_dir {self._config_dir} names pipeline "
                    f"{index.get('_class_name')!r}, which cannot load a single-file checkpoint"
                )
            return cls.from_single_file(str(model), config=str(self._config_dir), **extra)
        return diffusers.DiffusionPipeline.from_pretrained(str(model), **extra)

    def _load_tiny_vae(self) -> Any:
        from diffusers import AutoencoderTiny

        try:
            return AutoencoderTiny.from_pretrained(
                str(self.spec.tiny_vae), dtype=self.dtype, local_files_only=True
            )
        except (OSError, ValueError, RuntimeError) as e:
            raise ModelError(f"engine.tiny_vae {self.spec.tiny_vae} did not load: {e}") from e

    def _place(self, pipe: Any) -> Any:
        """Move to the device; CUDA gets channels_last and optionally a compiled UNet."""
        pipe = pipe.to(self.device)
        if self.device != "cuda":
            if self.spec.compile:
                log.warning("engine.compile is ignored on %s (CUDA only)", self.device)
            return pipe
        self.compiled = cuda_unet(pipe, compile=self.spec.compile)
        return pipe

    @property
    def pipe(self) -> Any:
        """The loaded pipeline (the img2img upscale pass derives its own from it)."""
        return self._pipe

    # rendering ---------------------------------------------------------------

    def warm_up(self) -> None:
        """Render the spec's warm-up variations (or one 64x64 image) and discard them.

        Pays first-call and compile costs at start, not on the first visitor's throw. With
        engine.compile, pass a warm-up variation at the show's size: compiled graphs are
        specialised on the image size.
        A flagged warm-up image is fine: nothing is shown.
        """
        for variation in self.spec.warmup or (WARMUP,):
            with contextlib.suppress(UnsafeImage):
                self.render(variation)

    def render(self, variation: Variation) -> np.ndarray:
        """HxWx3 uint8 RGB; UnsafeImage when flagged; EngineError on bad params or GPU OOM."""
        import torch

        p = variation.params
        self._check_params(p)
        try:
            kept = (
                self.encodings.active() if self.encodings is not None else contextlib.nullcontext()
            )
            with torch.inference_mode(), kept:
                out = self._pipe(**self.call_args(variation)).images
        except torch.cuda.OutOfMemoryError as e:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            detail = (str(e.args[0]) if e.args else "").strip().splitlines() or ["no detail"]
            raise EngineError(
                f"GPU out of memory rendering {p.width}x{p.height} at {p.steps} steps: "
                f"{detail[0]}; lower the size or steps, or use engine.tiny_vae"
            ) from e
        except (RuntimeError, ValueError, TypeError) as e:
            raise EngineError(
                f"render failed for variation {variation.key} "
                f"seed {variation.seed}: {type(e).__name__}: {e}"
            ) from e
        image = np.asarray((out[0] * 255).round().clip(0, 255), dtype=np.uint8)
        if self._safety is not None and self._safety.flagged(image):
            raise UnsafeImage(
                f"the safety checker flagged variation {variation.key} seed {variation.seed}"
            )
        return image

    def call_args(self, variation: Variation) -> dict[str, Any]:
        """The exact keyword arguments of the pipeline call for this variation."""
        import torch

        p = variation.params
        args: dict[str, Any] = {
            # the prompt, or its embeddings when the engine has them (engines/percall.py)
            **self.prompts.args(variation.prompt, variation.negative_prompt or None, p.guidance),
            "num_inference_steps": p.steps,
            "guidance_scale": p.guidance,
            "generator": torch.Generator("cpu").manual_seed(variation.seed),
            "num_images_per_prompt": 1,
            "output_type": "np",
        }
        if self.mode == "txt2img":
            return {**args, "width": p.width, "height": p.height}
        args["image"] = self.painting(variation.painting, p.width, p.height)
        args["strength"] = p.strength
        if self.mode == "inpaint":
            args.update(mask_image=self._mask(p.width, p.height), width=p.width, height=p.height)
        return args

    def painting(self, index: int, width: int, height: int) -> Any:
        """Painting `index` (mod count) fitted to width x height, as a PIL image; cached."""
        from PIL import Image

        from installation.engines.images import load_rgb

        n = len(self.spec.paintings)
        key = (index % n, width, height)
        if key not in self._paintings:
            if len(self._paintings) > 16:
                self._paintings.clear()
            rgb = load_rgb(self.spec.paintings[key[0]], (width, height), fit="cover")
            self._paintings[key] = Image.fromarray(rgb)
        return self._paintings[key]

    def _mask(self, width: int, height: int) -> Any:
        from PIL import Image

        from installation.engines.images import load_rgb

        key = (-1, width, height)
        if key not in self._paintings:
            rgb = load_rgb(self.spec.mask, (width, height), fit="cover")  # type: ignore[arg-type]
            self._paintings[key] = Image.fromarray(rgb).convert("L")
        return self._paintings[key]

    def _check_params(self, p: RenderParams) -> None:
        if p.width % 8 or p.height % 8 or p.width < 8 or p.height < 8:
            raise EngineError(f"image size must be multiples of 8, got {p.width}x{p.height}")
        if p.steps < 1:
            raise EngineError(f"steps must be 1 or more, got {p.steps}")
        if self.mode != "txt2img" and int(p.steps * p.strength) < 1:
            raise EngineError(
                f"steps x strength must reach 1 for img2img, got {p.steps} x {p.strength}: "
                f"raise steps to at least {int(np.ceil(1 / p.strength))} or raise strength"
            )

    def describe(self) -> dict[str, str]:
        """What the archive and status record about this engine."""
        import diffusers
        import torch

        model = Path(self.spec.model)  # type: ignore[arg-type]
        return {
            "engine": self.name,
            "model": model.stem if model.is_file() else model.name,
            "fingerprint": self._fingerprint,
            "pipeline": type(self._pipe).__name__,
            "family": self.family,
            "mode": self.mode,
            "device": self.device,
            "threads": str(self.threads or ""),  # CPU float sums depend on the thread count
            "dtype": str(self.dtype).removeprefix("torch."),
            "tiny_vae": Path(self.spec.tiny_vae).name if self.spec.tiny_vae else "",
            "compile": "on" if self.compiled else "off",
            "safety": str(self._safety.source) if self._safety else "off",
            "diffusers": diffusers.__version__,
            "torch": torch.__version__,
        }

    def __repr__(self) -> str:
        return (
            f"DiffusersEngine(model={self.spec.model}, mode={self.mode}, "
            f"device={self.device}, safety={'on' if self._safety else 'off'})"
        )


def _quiet_progress_bars() -> None:
    """No tqdm bars from loading: the worker's output goes to the journal, line by line. Nor
    transformers' notice, at every load, that its image processors fall back to PIL without
    torchvision (the safety checker's feature extractor; PIL is what we want)."""
    import diffusers.utils.logging as dlog
    import transformers.utils.logging as tlog

    dlog.disable_progress_bar()
    tlog.disable_progress_bar()
    imports = logging.getLogger("transformers.utils.import_utils")
    if not any(isinstance(f, _NoTorchvisionNotice) for f in imports.filters):
        imports.addFilter(_NoTorchvisionNotice())


class _NoTorchvisionNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "requires torchvision (not installed)" not in record.getMessage()


def _family(config_dir: Path) -> str:
    index = read_json(config_dir / "model_index.json")
    return guess_family(config_dir, str(index.get("_class_name", "")))


def _fingerprint(spec: EngineSpec) -> str:
    """One fingerprint over everything that shapes the pixels: model, its config, tiny VAE."""
    parts = [model_fingerprint(Path(spec.model))]  # type: ignore[arg-type]
    for extra in (spec.model_config_dir, spec.tiny_vae):
        if extra is not None:
            parts.append(model_fingerprint(Path(extra)))
    if len(parts) == 1:
        return parts[0]
    return hashlib.sha256("+".join(parts).encode()).hexdigest()[:16]
