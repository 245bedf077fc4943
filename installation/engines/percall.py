"""Work a plain diffusers call repeats every time, done once per engine instead.

Three things a Stable Diffusion pipeline redoes on every call that an engine rendering one
outcome after another needs to do only once (measured on the tiny model in BENCHMARKS.md,
benchmark 4):

- `_execution_device`: the pipeline looks for offloading hooks in every submodule of every
  component on each call (diffusers 0.42: 2.6 ms per call on the tiny model, more with
  SD 1.5's thousand-odd modules). The engine never offloads, so the answer cannot change
  after loading: `pin_execution_device` fixes it, and refuses when any module carries a
  hook (then the lookup stays as diffusers wrote it).
- the text encoder: the same prompts come back throw after throw (a show has a few dozen
  prompt variants). `PromptEmbeddings` keeps the pipeline's own `encode_prompt` output
  for the most recent prompts and passes it as `prompt_embeds` / `negative_prompt_embeds`,
  which diffusers then uses as is: the pixels stay identical to a plain call (tested in
  tests/engines/test_percall.py). SD 1.x/2.x pipelines only (their encode_prompt returns a
  pair); others (SDXL's returns pooled embeddings too) keep passing the prompt.
- the VAE encoder: img2img and inpainting encode the same painting (at the same size)
  on every call, and only then draw the seed's noise from the encoder's distribution.
  `keep_encodings` puts `KeptEncodings` in front of the VAE's `encode`: within the
  engine's own render, an input equal in shape, dtype, device and values to a recent one
  gets that one's output back (the distribution object, which holds no state: sampling
  happens after, with the call's generator). 13% of a call on the tiny model; a 512x512
  encode on a GPU is a few percent of a render.

torch is imported inside each function, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

# Pipelines whose encode_prompt is (prompt, device, n, cfg, negative) -> (embeds, negative).
EMBEDDING_PIPELINES = frozenset(
    {"StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline", "StableDiffusionInpaintPipeline"}
)
KEEP_PROMPTS = 64  # SD 1.5 in fp16: 77 x 768 x 2 bytes, twice with guidance: ~240 KB each
KEEP_ENCODINGS = 4  # at least: a painting, and for inpainting its masked copy (keep_for)
MAX_ENCODINGS = 16  # at most, however many paintings (input + output kept on the device)
ENCODINGS_MB = 128  # and at most this much device memory, counted as twice each input


def has_hooks(pipe: Any) -> bool:
    """Whether any module of the pipeline carries an accelerate or diffusers hook
    (offloading, layerwise casting, caches): then the execution device may move."""
    import torch

    return any(
        hasattr(module, "_hf_hook") or hasattr(module, "_diffusers_hook")
        for component in pipe.components.values()
        if isinstance(component, torch.nn.Module)
        for module in component.modules()
    )


def pin_execution_device(pipe: Any) -> bool:
    """Answer `pipe._execution_device` from now on with what it answers now, unless the
    pipeline has hooks. The pipeline's class becomes a subclass of the same name that
    only overrides that property. True when pinned.

    Call it last: after `.to()`, channels_last and compiling, and never move, offload or
    add hooks to the pipeline afterwards (the engine does none of these). A pinned
    pipeline no longer pickles (its class is not importable by name); nothing here
    pickles pipelines."""
    if has_hooks(pipe):
        return False
    device = pipe.device  # what _execution_device answers when no module has a hook
    cls = type(pipe)
    pinned = type(
        cls.__name__,
        (cls,),
        {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "_execution_device": property(lambda self: device),
        },
    )
    pipe.__class__ = pinned
    return True


class PromptEmbeddings:
    """The pipeline's text embeddings for the most recent `keep` prompts (least recently
    used goes first). `args()` gives the pipeline keywords for one call. Keyed by the text
    alone: valid while the text encoder, its LoRA and textual inversions and clip_skip
    stay as loaded, as the engine keeps them."""

    def __init__(self, pipe: Any, device: Any, keep: int = KEEP_PROMPTS) -> None:
        self._pipe = pipe
        self._device = device  # the engine's: where the pipeline runs
        self._keep = keep
        self._known: OrderedDict[tuple[str, str | None, bool], tuple[Any, Any]] = OrderedDict()
        self.enabled = type(pipe).__name__ in EMBEDDING_PIPELINES and keep > 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._known)

    def guided(self, guidance: float) -> bool:
        """Whether the pipeline will run classifier-free guidance (as its own
        do_classifier_free_guidance decides: guidance > 1 and no guidance-embedding UNet)."""
        unet = getattr(self._pipe, "unet", None)
        cond = getattr(getattr(unet, "config", None), "time_cond_proj_dim", None)
        return guidance > 1 and cond is None

    def args(self, prompt: str, negative: str | None, guidance: float) -> dict[str, Any]:
        """`prompt=`/`negative_prompt=` for the call, or their embeddings when kept."""
        if not self.enabled:
            return {"prompt": prompt, "negative_prompt": negative}
        key = (prompt, negative, self.guided(guidance))
        found = self._known.get(key)
        if found is None:
            self.misses += 1
            found = self._encode(*key)
            self._known[key] = found
            while len(self._known) > self._keep:
                self._known.popitem(last=False)
        else:
            self.hits += 1
            self._known.move_to_end(key)
        embeds, negative_embeds = found
        args = {"prompt": None, "negative_prompt": None, "prompt_embeds": embeds}
        if negative_embeds is not None:
            args["negative_prompt_embeds"] = negative_embeds
        return args

    def _encode(self, prompt: str, negative: str | None, guided: bool) -> tuple[Any, Any]:
        import torch

        with torch.inference_mode():
            embeds, negative_embeds = self._pipe.encode_prompt(
                prompt, self._device, 1, guided, negative
            )
        return embeds, (negative_embeds if guided else None)


def keep_encodings(vae: Any, keep: int = KEEP_ENCODINGS) -> KeptEncodings:
    """Put a KeptEncodings in front of `vae.encode` (an instance attribute shadowing the
    method; the module and its weights are untouched). It only keeps what is encoded
    inside `with kept.active():`, the engine's own renders: the upscale pass shares this
    VAE, and its tiles would push the painting out (each a miss)."""
    kept = KeptEncodings(vae.encode, keep)
    vae.encode = kept
    return kept


def keep_for(paintings: int) -> int:
    """How many encodings to keep for a show's paintings: two each (inpainting encodes the
    painting and its masked copy), at least KEEP_ENCODINGS, at most MAX_ENCODINGS (~1.7 MB
    each at 512x512 in fp16, ~3.9 MB at 768x768)."""
    return min(MAX_ENCODINGS, max(KEEP_ENCODINGS, 2 * paintings))


class KeptEncodings:
    """`encode(x, return_dict)` answered from the last `keep` inputs when `x` has the same
    shape, dtype and device as one of them and equal values (torch.equal: +0.0 equals
    -0.0, which no convolution tells apart), else computed and, while active, kept.

    Holds the VAE's bound method weakly (the VAE holds this object: no reference cycle
    keeping a dropped engine's VAE alive until the cyclic collector runs). Valid while the
    VAE's weights and settings (tiling, slicing) stay as loaded, as the engine keeps them.
    """

    def __init__(self, encode: Any, keep: int, budget_mb: float = ENCODINGS_MB) -> None:
        self._encode = weakref.WeakMethod(encode)
        self._keep = keep
        self._budget = int(budget_mb * 2**20)
        self._kept: list[tuple[Any, bool, Any]] = []  # (input, return_dict, output), oldest first
        self._active = False
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Look up and keep encodings within this block (the engine's render)."""
        self._active = True
        try:
            yield
        finally:
            self._active = False

    def __call__(self, x: Any, return_dict: bool = True) -> Any:
        import torch

        encode = self._encode()
        if encode is None:  # cannot happen while the VAE holds us
            raise RuntimeError("the VAE behind these kept encodings is gone")
        if not self._active:
            return encode(x, return_dict=return_dict)
        for i, (seen, as_dict, out) in enumerate(self._kept):
            if (
                as_dict == return_dict
                and seen.shape == x.shape
                and seen.dtype == x.dtype
                and seen.device == x.device
                and torch.equal(seen, x)
            ):
                self.hits += 1
                self._kept.append(self._kept.pop(i))
                return out
        self.misses += 1
        out = encode(x, return_dict=return_dict)
        if self._keep > 0 and 2 * x.nbytes <= self._budget:
            self._kept.append((x.detach().clone(), return_dict, out))
            del self._kept[: -self._keep]
            while 2 * self.nbytes > self._budget:
                del self._kept[0]  # the input and what it encodes to: at most twice its size
        return out

    @property
    def nbytes(self) -> int:
        """The kept inputs' bytes (their outputs are smaller: latents are 1/8 a side)."""
        return sum(seen.nbytes for seen, _, _ in self._kept)
