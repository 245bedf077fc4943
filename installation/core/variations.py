"""From a throw and a show to a Variation: the documented, deterministic rule.

The rule (also in the README):

- outcome key: the faces joined by '-', die 1 first ('3-5').
- prompt: the show's template with {dieN} replaced by variants[N-1][face-1].
- seed: the first 8 bytes of SHA-256 over "salt|key" (fixed mode) or
  "salt|key|#r" (fresh mode, r = how many times this outcome has been thrown,
  1 the first time, persisted across restarts), big-endian,
  modulo 2**32. A re-roll (safety, blocked seed) appends "|r1", "|r2" ... to that text.
- number: fixed mode, the outcome's position 1..faces**dice (die 1 most significant);
  fresh mode, the throw count n (1, 2, 3 ... for the life of the show).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from installation.core.dice import Throw, outcome_index

SEED_MODULUS = 2**32
MAX_REROLLS = 8  # images the safety checker refuses in a row before the wall keeps its picture
_SLOT = re.compile(r"\{die(\d+)\}")


@dataclass(frozen=True)
class RenderParams:
    """Everything besides seed and prompt that shapes the picture."""

    strength: float
    steps: int
    guidance: float
    width: int
    height: int
    # The worker's upscale pass ([upscale]): the picture the engine returns is
    # output_size(), the generation size times `upscale`, its long side at most
    # `max_side` (0: no bound). 1.0: no upscale, the picture is width x height.
    upscale: float = 1.0
    max_side: int = 0

    def output_size(self) -> tuple[int, int]:
        """(width, height) of the picture the engine returns: the generation size, or its
        upscale (multiples of 8, never smaller than the generation size)."""
        w, h = self.width, self.height
        if self.upscale <= 1.0:
            return w, h
        factor = self.upscale
        if self.max_side > 0:
            factor = min(factor, self.max_side / max(w, h))
        if factor <= 1.0:
            return w, h
        return max(w, int(w * factor) // 8 * 8), max(h, int(h * factor) // 8 * 8)


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
    repeat: int = 0  # fresh mode: this outcome's throw number (part of the seed)
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> tuple[str, int, int]:
        """Which picture this is on the wall: outcome key, seed and label number. Two
        variations with the same id are the same picture (a re-roll changes the seed)."""
        return (self.key, self.seed, self.number)


@dataclass(frozen=True)
class Approval:
    """A curator-approved outcome ('3-5'), optionally with the one seed approved ('3-5@1234')."""

    faces: tuple[int, ...]
    seed: int | None = None


def parse_approval(entry: str) -> Approval:
    """'3-5' or '3-5@1234' -> Approval. Raises ValueError naming the accepted forms."""
    faces_text, _, seed_text = entry.strip().partition("@")
    try:
        faces = tuple(int(f) for f in faces_text.split("-"))
        seed = int(seed_text) if seed_text else None
    except ValueError:
        raise ValueError(
            f"approved entry {entry!r}: expected faces like '3-5' or faces@seed like '3-5@1234'"
        ) from None
    return Approval(faces, seed)


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
    approved_only: bool = False
    approved: tuple[Approval, ...] = ()
    blocked_seeds: frozenset[int] = frozenset()
    # per painting (width, height) when they differ (each painting's own shape); () all `params`
    sizes: tuple[tuple[int, int], ...] = ()

    def params_for(self, painting: int) -> RenderParams:
        """The render parameters for a variation of painting `painting`."""
        if not self.sizes:
            return self.params
        w, h = self.sizes[painting % len(self.sizes)]
        return replace(self.params, width=w, height=h)


def derive_seed(salt: str, key: str, repeat: int | None, reroll: int = 0) -> int:
    """The documented seed rule. `repeat` (fresh mode): this outcome's throw number."""
    text = f"{salt}|{key}" if repeat is None else f"{salt}|{key}|#{repeat}"
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
    rule: VariationRule, throw: Throw, count: int = 0, reroll: int = 0, repeat: int = 0
) -> Variation:
    """The variation for `throw`. Fresh mode: `count` is the show's throw count (the label
    number) and `repeat` how many times this outcome has been thrown (the seed), so the
    next variation of every outcome is known ahead and can be pre-rendered.

    With approved_only, an approved outcome keeps its variation (or takes its approved
    seed); any other outcome shows an approved one instead, picked by the same hash
    rule, so the wall only ever shows what the curators saw. Re-rolls are not
    restricted: an image the safety checker refuses is never shown, approved or not.
    """
    if rule.approved_only and rule.approved and reroll == 0:
        v = _approved_variation(rule, throw, count, repeat)
    else:
        v = _derive(rule, throw, count, reroll, repeat)
    # blocked seeds are never rendered anywhere (wall, cache, preview): the next re-roll is
    # taken instead. Seeds are hash-spread over 2**32, so this ends after a step or two.
    while v.seed in rule.blocked_seeds:
        v = _derive(rule, Throw(v.faces, throw.source), v.number, v.reroll + 1, v.repeat)
    return v


def _approved_variation(rule: VariationRule, throw: Throw, count: int, repeat: int) -> Variation:
    matches = [a for a in rule.approved if a.faces == throw.faces]
    if matches:
        choice = matches[max(count - 1, 0) % len(matches)]
        substitute = False
    else:
        pick = derive_seed(rule.salt, throw.key, None) % len(rule.approved)
        choice = rule.approved[pick]
        substitute = True
    v = _derive(rule, Throw(choice.faces, throw.source), count, 0, repeat)
    if choice.seed is not None:
        painting = choice.seed % max(1, rule.paintings)
        v = replace(v, seed=choice.seed, painting=painting, params=rule.params_for(painting))
    if substitute:
        v = replace(v, meta={"thrown": throw.key, "approved_instead": v.key})
    return v


def _derive(rule: VariationRule, throw: Throw, count: int, reroll: int, repeat: int) -> Variation:
    key = throw.key
    if rule.seed_mode == "fresh":
        if count < 1 or repeat < 1:
            raise ValueError(
                f"fresh seed mode needs a throw count and an outcome repeat of 1 or more, "
                f"got count {count}, repeat {repeat}"
            )
        seed = derive_seed(rule.salt, key, repeat, reroll)
        number = count
    else:
        seed = derive_seed(rule.salt, key, None, reroll)
        number = outcome_index(throw.faces, rule.faces_per_die) + 1
    painting = seed % max(1, rule.paintings)
    return Variation(
        faces=throw.faces,
        key=key,
        number=number,
        seed=seed,
        prompt=render_prompt(rule.prompt, rule.variants, throw.faces),
        negative_prompt=rule.negative_prompt,
        params=rule.params_for(painting),
        reroll=reroll,
        painting=painting,
        repeat=repeat if rule.seed_mode == "fresh" else 0,
    )


def reroll(rule: VariationRule, v: Variation, count: int = 0) -> Variation:
    """The next derived variation for the same throw (safety re-roll or blocked seed)."""
    return derive_variation(
        rule, Throw(v.faces), count=count or v.number, reroll=v.reroll + 1, repeat=v.repeat
    )
