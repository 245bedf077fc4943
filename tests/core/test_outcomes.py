"""Outcome spaces are lazy: any space the schema accepts (8 dice of 100 faces: 10**16
outcomes) is walked one outcome at a time, in the same memory as two six-sided dice."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from installation.core.dice import Outcomes, all_outcomes, outcome_at, outcome_count, outcome_index
from tests.memory import LAZY_BYTES, peak_bytes


def walk(items: Iterator[object], n: int) -> int:
    """Consume n items without keeping them."""
    seen = 0
    for _ in itertools.islice(items, n):
        seen += 1
    return seen


@pytest.mark.parametrize(("dice", "faces"), [(1, 2), (2, 3), (3, 4), (2, 6)])
def test_a_small_space_is_every_outcome_in_index_order(dice: int, faces: int) -> None:
    expected = list(itertools.product(range(1, faces + 1), repeat=dice))
    space = all_outcomes(dice, faces)
    assert list(space) == expected and len(space) == space.size == outcome_count(dice, faces)
    assert [space[i] for i in range(len(space))] == expected
    assert [outcome_index(o, faces) for o in space] == list(range(len(expected)))
    for s in (slice(2, 7), slice(None, None, 2), slice(None, None, -3), slice(5, 1, -1)):
        assert list(space[s]) == expected[s] and len(space[s]) == space[s].size
    assert list(space[1:][2:5]) == expected[1:][2:5]
    assert all(space.index(o) == i and o in space for i, o in enumerate(expected))
    assert (0,) * dice not in space and (1,) * (dice + 1) not in space


def test_the_biggest_space_the_schema_accepts_costs_nothing_to_hold() -> None:
    space = all_outcomes(8, 100)
    assert space.size == len(space) == 10**16
    assert space[0] == (1,) * 8 and space[-1] == (100,) * 8
    assert space[10**15] == (11, 1, 1, 1, 1, 1, 1, 1)
    assert space.index((100,) * 8) == 10**16 - 1 and space.count((3,) * 8) == 1
    assert peak_bytes(lambda: all_outcomes(8, 100)) < LAZY_BYTES


@pytest.mark.parametrize("n", [1_000, 10_000])
def test_walking_the_first_n_of_a_huge_space_is_o_of_n(n: int) -> None:
    """Any materialising step would need petabytes here; a lazy one needs a few tuples."""
    space = all_outcomes(8, 100)
    assert peak_bytes(lambda: walk(iter(space), n)) < LAZY_BYTES
    assert peak_bytes(lambda: walk(iter(space[: 10**12]), n)) < LAZY_BYTES
    # from the middle: an odometer from the start index, not a skip over what comes before
    middle = space[5 * 10**15 :]
    assert peak_bytes(lambda: walk(iter(middle), n)) < LAZY_BYTES
    first = list(itertools.islice(middle, 3))
    assert first == [outcome_at(5 * 10**15 + i, 8, 100) for i in range(3)]
    assert first[1] == (51, 1, 1, 1, 1, 1, 1, 2)


def test_the_odometer_carries_across_dice() -> None:
    space = Outcomes(3, 4)
    assert list(space[14:19]) == [space[i] for i in range(14, 19)]
    assert list(space[15:17]) == [(1, 4, 4), (2, 1, 1)]


@pytest.mark.parametrize("seed_mode", ["fixed", "fresh"])
def test_the_directors_per_outcome_state_grows_with_throws_not_with_the_space(
    seed_mode: str,
) -> None:
    """Fresh seeds remember how often each thrown outcome came up (the seed rule needs
    it): one entry per distinct outcome thrown, so at most one per throw, whatever the
    space. Fixed seeds remember nothing per outcome. Looking ahead remembers nothing."""
    import random

    from installation.core.dice import Throw
    from installation.core.director import Director, DirectorConfig, PersistCount
    from installation.core.variations import RenderParams, VariationRule

    params = RenderParams(strength=0.5, steps=2, guidance=1.0, width=16, height=16)
    rule = VariationRule(seed_mode, "s", "a die", (), "", params, faces_per_die=100)
    director = Director(DirectorConfig(8, 100, 60), rule, now=0.0)
    rng = random.Random(7)
    for faces in itertools.islice(all_outcomes(8, 100), 500):  # look-ahead keeps nothing
        director.next_variation(faces)
    assert director.repeats == {}
    throws = [tuple(rng.choice((1, 2)) for _ in range(8)) for _ in range(300)]
    persisted = []
    for n, faces in enumerate(throws, start=1):
        persisted += [
            a for a in director.throw(Throw(faces), float(n)) if isinstance(a, PersistCount)
        ]
    distinct = {"-".join(map(str, f)) for f in throws}
    if seed_mode == "fixed":
        assert director.repeats == {} and persisted == []
    else:
        assert set(director.repeats) == distinct and len(distinct) < len(throws)
        assert sum(director.repeats.values()) == len(throws) == director.count
        assert persisted[-1].repeats == director.repeats
