"""Dice and throws as plain data."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload


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


def outcome_at(index: int, count: int, faces_per_die: int) -> tuple[int, ...]:
    """The outcome at a mixed-radix index (die 1 most significant): outcome_index's inverse."""
    out = []
    for _ in range(count):
        index, digit = divmod(index, faces_per_die)
        out.append(digit + 1)
    return tuple(reversed(out))


class Outcomes(Sequence[tuple[int, ...]]):
    """Every outcome of `count` dice in outcome_index order, as a lazy sequence (like
    range): nothing is materialised, so 8 dice of 100 faces (10**16 outcomes) cost the
    same few bytes as 2 of 6. Indexing is O(dice); iterating yields one tuple at a time;
    a slice is another lazy view. `size` is exact for any space; len() (Python's int
    limit, 2**63 - 1) covers every space the show schema accepts."""

    __slots__ = ("_range", "dice", "faces")

    def __init__(self, count: int, faces_per_die: int, indices: range | None = None) -> None:
        self.dice, self.faces = count, faces_per_die
        self._range = range(outcome_count(count, faces_per_die)) if indices is None else indices

    @property
    def size(self) -> int:
        r = self._range
        return max(0, (r.stop - r.start + r.step - (1 if r.step > 0 else -1)) // r.step)

    def __len__(self) -> int:
        return len(self._range)

    @overload
    def __getitem__(self, index: int) -> tuple[int, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> Outcomes: ...
    def __getitem__(self, index: int | slice) -> tuple[int, ...] | Outcomes:
        if isinstance(index, slice):
            return Outcomes(self.dice, self.faces, self._range[index])
        return outcome_at(self._range[index], self.dice, self.faces)

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        r, faces = self._range, self.faces
        if r.step == 1 and r.start == 0:  # the common walk from the top: C speed
            every = itertools.product(range(1, faces + 1), repeat=self.dice)
            return itertools.islice(every, r.stop)
        if r.step == 1:
            return self._odometer(r.start, r.stop - r.start) if r.stop > r.start else iter(())
        return (outcome_at(i, self.dice, faces) for i in r)

    def _odometer(self, start: int, n: int) -> Iterator[tuple[int, ...]]:
        """n outcomes from index `start` on, O(1) amortised each (no O(start) skip)."""
        digits, faces = list(outcome_at(start, self.dice, self.faces)), self.faces
        for _ in range(n):
            yield tuple(digits)
            i = len(digits) - 1
            while i >= 0:
                digits[i] += 1
                if digits[i] <= faces:
                    break
                digits[i] = 1
                i -= 1

    def __contains__(self, faces: object) -> bool:
        if not isinstance(faces, tuple) or len(faces) != self.dice:
            return False
        if not all(isinstance(f, int) and 1 <= f <= self.faces for f in faces):
            return False
        return outcome_index(faces, self.faces) in self._range

    def index(self, faces: object, start: int = 0, stop: int | None = None) -> int:
        """Position of `faces` in this view, O(dice) (the Sequence default walks it all)."""
        if faces not in self:
            raise ValueError(f"{faces!r} is not an outcome of this view")
        assert isinstance(faces, tuple)
        at = self._range.index(outcome_index(faces, self.faces))
        if at < start or (stop is not None and at >= stop):
            raise ValueError(f"{faces!r} is not between positions {start} and {stop}")
        return at

    def count(self, faces: object) -> int:
        return 1 if faces in self else 0

    def __repr__(self) -> str:
        return f"<Outcomes {self.dice} x d{self.faces} {self._range}>"


def all_outcomes(count: int, faces_per_die: int) -> Outcomes:
    """Every outcome in outcome_index order, lazily (see Outcomes)."""
    return Outcomes(count, faces_per_die)


def random_throw(count: int, faces_per_die: int, rng: random.Random, source: str) -> Throw:
    return Throw(tuple(rng.randint(1, faces_per_die) for _ in range(count)), source=source)
