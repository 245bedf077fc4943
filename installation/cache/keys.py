"""Cache keys: a digest over everything that shapes the pixels, and nothing else.

The key covers the engine's description (model fingerprint, library versions), the
variation's seed, prompt, negative prompt, params (with the upscaled output size when
[upscale] is on), painting index and that painting's content stamp. The upscaler's model
and settings are in the engine's description. Faces, number and label are left out: they
do not change the pixels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from installation.core.variations import Variation

CACHE_FORMAT = "1"  # bump when the key or file layout changes
VOLATILE = frozenset({"pid", "describe_error"})  # describe() values that change run to run


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def engine_stamp(info: Mapping[str, object]) -> str:
    """Digest of an engine description without run-to-run values; '' for an unknown engine."""
    clean = {str(k): str(v) for k, v in info.items() if str(k) not in VOLATILE}
    return _digest([CACHE_FORMAT, clean]) if clean else ""


def file_stamp(path: Path) -> str:
    """SHA-256 of a file's content ('missing:<name>' if unreadable): copies keep their stamp."""
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return f"missing:{Path(path).name}"
    return h.hexdigest()[:32]


def painting_stamps(paintings: Sequence[Path], mask: Path | None = None) -> tuple[str, ...]:
    """One stamp per painting (mask included): editing one re-renders only its variations."""
    m = file_stamp(mask) if mask is not None else ""
    return tuple(f"{file_stamp(p)}+{m}" for p in paintings) or (f"none+{m}",)


def cache_key(variation: Variation, engine: str, painting: str) -> str:
    """32 hex digits over what shapes the pixels (not faces, number or label)."""
    p = variation.params
    data = [engine, painting, variation.painting, variation.seed, variation.prompt]
    data += [variation.negative_prompt, p.strength, p.steps, p.guidance, p.width, p.height]
    if (out := p.output_size()) != (p.width, p.height):  # [upscale]; old keys stay as they were
        data.append(list(out))
    return _digest(data)[:32]


def entry_key(variation: Variation, engine: str, paintings: Sequence[str]) -> str:
    """The key of a variation's file: its painting's stamp is the one at its index."""
    return cache_key(variation, engine, paintings[variation.painting % len(paintings)])
