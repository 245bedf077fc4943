"""From a throw and a show to a Variation: the documented, deterministic rule.

The rule (also in the README):

- outcome key: the faces joined by '-', die 1 first ('3-5').
- prompt: the show's template with {dieN} replaced by variants[N-1][face-1].
- seed: the first 8 bytes of SHA-256 over "salt|key" (fixed mode) or
  "salt|key|n" (fresh mode, n = the show's persisted throw count), big-endian,
  modulo 2**32. A re-roll (safety, blocked seed) appends "|r1", "|r2" ... to that text.
- number: fixed mode, the outcome's position 1..faces**dice (die 1 most significant);
  fresh mode, the throw count n (1, 2, 3 ... for the life of the show).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from installation.core.dice import Throw, outcome_index

SEED_MODULUS = 2**32
_SLOT = re.compile(r"\{die(\d+)\}")


@dataclass(frozen=True)
class RenderParams:
    """Everything besides seed and prompt that shapes the picture."""

    strength: float
    steps: int
    guidance: float
    width: int
    height: int


@dataclass(frozen=True)
class Variation:
    """One proposal for the wall: what to render and how to label it."""

    faces: tuple[int, ...]
    key: str
    number: int
    seed: int
    prompt: str
    negative_prompt: str
    params: RenderParams
    reroll: int = 0
    painting: int = 0  # index into the show's paintings
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class VariationRule:
    """The show's variation settings, as plain data the core can use without pydantic."""

    seed_mode: str  # "fixed" | "fresh"
    salt: str
    prompt: str
    variants: tuple[tuple[str, ...], ...]
    negative_prompt: str
    params: RenderParams
    faces_per_die: int
    paintings: int = 1


def derive_seed(salt: str, key: str, count: int | None, reroll: int = 0) -> int:
    text = f"{salt}|{key}" if count is None else f"{salt}|{key}|{count}"
    if reroll:
        text += f"|r{reroll}"
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % SEED_MODULUS


def render_prompt(
    template: str, variants: tuple[tuple[str, ...], ...], faces: tuple[int, ...]
) -> str:
    """Fill {dieN} slots. Unknown slots are left as written (the show loader rejects them)."""

    def fill(m: re.Match[str]) -> str:
        die = int(m.group(1))
        if 1 <= die <= len(variants) and die <= len(faces):
            options = variants[die - 1]
            face = faces[die - 1]
            if 1 <= face <= len(options):
                return options[face - 1]
        return m.group(0)

    return " ".join(_SLOT.sub(fill, template).split())


def prompt_slots(template: str) -> list[int]:
    """Die numbers a template refers to, in order of appearance."""
    return [int(m.group(1)) for m in _SLOT.finditer(template)]


def derive_variation(
    rule: VariationRule, throw: Throw, count: int = 0, reroll: int = 0
) -> Variation:
    """The variation for `throw`. `count` is the 1-based throw count (used by fresh mode)."""
    key = throw.key
    if rule.seed_mode == "fresh":
        if count < 1:
            raise ValueError(f"fresh seed mode needs a throw count of 1 or more, got {count}")
        seed = derive_seed(rule.salt, key, count, reroll)
        number = count
    else:
        seed = derive_seed(rule.salt, key, None, reroll)
        number = outcome_index(throw.faces, rule.faces_per_die) + 1
    return Variation(
        faces=throw.faces,
        key=key,
        number=number,
        seed=seed,
        prompt=render_prompt(rule.prompt, rule.variants, throw.faces),
        negative_prompt=rule.negative_prompt,
        params=rule.params,
        reroll=reroll,
        painting=seed % max(1, rule.paintings),
    )


def reroll(rule: VariationRule, v: Variation, count: int = 0) -> Variation:
    """The next derived variation for the same throw (safety re-roll or blocked seed)."""
    return derive_variation(rule, Throw(v.faces), count=count or v.number, reroll=v.reroll + 1)
