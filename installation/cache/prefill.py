"""Prefill: which outcomes to render before anyone throws. Pure policy, no IO.

It keeps the first `target` outcomes (outcome order) rendered: all of them when they fit
the cache budget, else 90% of the budget, so live throws of the rest (rendered live)
have room. Fixed seed mode renders each outcome's one variation. Fresh seed mode renders
each outcome's next variation, from the director's look-ahead (its seed follows how
often that outcome was thrown), so after a throw only that outcome needs a new picture.

Outcomes are a lazy sequence (core.dice.Outcomes): the plan walks the first `target`
one at a time, so 8 dice of 100 faces (10**16 outcomes) plan in constant memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from installation.core.dice import Throw, all_outcomes
from installation.core.variations import Variation, VariationRule, derive_variation

Faces = tuple[int, ...]


@dataclass(frozen=True)
class Prefill:
    """What to render in the background, in order. Pure: callers pass what is cached."""

    outcomes: Sequence[Faces]  # lazy (core.dice.Outcomes): never materialised here
    variation_for: Callable[[Faces], Variation | None]  # the next throw of these faces
    budget: int  # images the cache holds
    reserve: float = 0.1  # of the budget, left for live throws when not everything fits

    @property
    def target(self) -> int:
        """How many outcomes (the first ones) are kept rendered."""
        if len(self.outcomes) <= self.budget:
            return len(self.outcomes)
        return max(0, int(self.budget * (1.0 - self.reserve)))

    def plan(self, is_cached: Callable[[Variation], bool]) -> Iterator[Variation | None]:
        """Lazily: a variation to render, or None for one already cached (bounds each step)."""
        for faces in self.outcomes[: self.target]:
            v = self.variation_for(faces)
            yield None if v is None or is_cached(v) else v

    def todo(
        self, is_cached: Callable[[Variation], bool], limit: int | None = None
    ) -> list[Variation]:
        """Everything the plan would render (at most `limit`), as a list: for tests and
        small plans; large ones walk `pending` instead."""
        return list(self.pending(is_cached, limit))

    def pending(
        self, is_cached: Callable[[Variation], bool], limit: int | None = None
    ) -> Iterator[Variation]:
        """Lazily: the variations still to render, in order (at most `limit`)."""
        todo = (v for v in self.plan(is_cached) if v is not None)
        return todo if limit is None else itertools.islice(todo, max(0, limit))


def prefill_for(
    rule: VariationRule,
    dice: int,
    budget: int,
    next_variation: Callable[[Faces], Variation] | None = None,
) -> Prefill | None:
    """The show's policy: every outcome in order. Fixed mode renders each outcome's one
    variation; fresh mode needs `next_variation` (the director's look-ahead: the next
    throw of these faces) and keeps one ready per outcome, refilled after each use."""
    if rule.seed_mode == "fixed":
        return Prefill(
            all_outcomes(dice, rule.faces_per_die),
            lambda faces: derive_variation(rule, Throw(faces)),
            budget,
        )
    if next_variation is None:
        return None
    return Prefill(all_outcomes(dice, rule.faces_per_die), next_variation, budget)
