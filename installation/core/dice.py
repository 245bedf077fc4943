"""Dice and throws as plain data."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Throw:
    """The faces of one committed throw, in die order (die 1 first)."""

    faces: tuple[int, ...]
    source: str = "dice"  # "dice", "osc", "keyboard", "auto", "cluster"

    @property
    def key(self) -> str:
        """Outcome key used for caching and file names, e.g. '3-5'."""
        return "-".join(str(f) for f in self.faces)

    def validate(self, count: int, faces_per_die: int) -> None:
        """Raise ValueError naming the problem if this throw does not fit the dice."""
        if len(self.faces) != count:
            raise ValueError(
                f"throw has {len(self.faces)} faces {list(self.faces)}; the show has {count} dice"
            )
        for i, f in enumerate(self.faces, start=1):
            if not isinstance(f, int) or isinstance(f, bool) or not 1 <= f <= faces_per_die:
                raise ValueError(f"die {i} shows {f!r}; faces run from 1 to {faces_per_die}")


def outcome_index(faces: tuple[int, ...], faces_per_die: int) -> int:
    """Mixed-radix index of an outcome, die 1 most significant: (1,1)->0, (1,2)->1 ..."""
    index = 0
    for f in faces:
        index = index * faces_per_die + (f - 1)
    return index


def outcome_count(count: int, faces_per_die: int) -> int:
    return int(faces_per_die**count)


def all_outcomes(count: int, faces_per_die: int) -> list[tuple[int, ...]]:
    """Every outcome in outcome_index order."""
    out: list[tuple[int, ...]] = [()]
    for _ in range(count):
        out = [(*o, f) for o in out for f in range(1, faces_per_die + 1)]
    return out


def random_throw(count: int, faces_per_die: int, rng: random.Random, source: str) -> Throw:
    return Throw(tuple(rng.randint(1, faces_per_die) for _ in range(count)), source=source)
