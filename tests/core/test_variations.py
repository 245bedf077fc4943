from __future__ import annotations

import pytest

from installation.core.dice import Throw, all_outcomes, outcome_count, outcome_index
from installation.core.variations import (
    RenderParams,
    VariationRule,
    derive_seed,
    derive_variation,
    prompt_slots,
    render_prompt,
    reroll,
)

PARAMS = RenderParams(strength=0.6, steps=4, guidance=1.0, width=64, height=64)


def rule(mode: str = "fixed", salt: str = "s", paintings: int = 1) -> VariationRule:
    return VariationRule(
        seed_mode=mode,
        salt=salt,
        prompt="a die, {die1}, {die2}",
        variants=(tuple("abcdef"), tuple("uvwxyz")),
        negative_prompt="blurry",
        params=PARAMS,
        faces_per_die=6,
        paintings=paintings,
    )


def test_fixed_mode_same_faces_same_variation() -> None:
    a = derive_variation(rule(), Throw((3, 5)), count=1)
    b = derive_variation(rule(), Throw((3, 5)), count=99)
    assert a == b
    assert a.key == "3-5"
    assert a.prompt == "a die, c, y"
    assert a.number == outcome_index((3, 5), 6) + 1 == 2 * 6 + 4 + 1


def test_fixed_mode_seed_is_documented_sha256_rule() -> None:
    import hashlib

    expected = int.from_bytes(hashlib.sha256(b"s|3-5").digest()[:8], "big") % 2**32
    assert derive_variation(rule(), Throw((3, 5))).seed == expected


def test_fixed_seeds_differ_across_outcomes_and_salts() -> None:
    seeds = {derive_variation(rule(), Throw(o)).seed for o in all_outcomes(2, 6)}
    assert len(seeds) == 36
    assert (
        derive_variation(rule(salt="x"), Throw((1, 1))).seed
        != derive_variation(rule(), Throw((1, 1))).seed
    )


def test_fresh_mode_every_throw_new_and_reproducible_from_repeat() -> None:
    r = rule("fresh")
    first = derive_variation(r, Throw((2, 2)), count=1, repeat=1)
    second = derive_variation(r, Throw((2, 2)), count=7, repeat=2)
    assert first.seed != second.seed
    assert (first.number, second.number) == (1, 7)
    assert second.seed == derive_seed("s", "2-2", 2)
    # the seed depends on the outcome's repeat, not on the label number
    assert derive_variation(r, Throw((2, 2)), count=99, repeat=2).seed == second.seed
    assert derive_variation(r, Throw((2, 2)), count=7, repeat=2) == second


def test_fresh_mode_needs_a_count_and_a_repeat() -> None:
    with pytest.raises(ValueError, match="count 0, repeat 1"):
        derive_variation(rule("fresh"), Throw((1, 1)), count=0, repeat=1)
    with pytest.raises(ValueError, match="count 1, repeat 0"):
        derive_variation(rule("fresh"), Throw((1, 1)), count=1)


def test_reroll_gives_next_derived_seed() -> None:
    v = derive_variation(rule(), Throw((4, 4)))
    r1 = reroll(rule(), v)
    r2 = reroll(rule(), r1)
    assert r1.reroll == 1 and r2.reroll == 2
    assert len({v.seed, r1.seed, r2.seed}) == 3
    assert r1.seed == derive_seed("s", "4-4", None, 1)
    assert (r1.key, r1.number, r1.prompt) == (v.key, v.number, v.prompt)


def test_painting_chosen_by_seed() -> None:
    v = derive_variation(rule(paintings=3), Throw((1, 2)))
    assert v.painting == v.seed % 3


def test_prompt_slots_and_missing_variants_left_visible() -> None:
    assert prompt_slots("x {die2} {die1} {die2}") == [2, 1, 2]
    assert render_prompt("{die1} and {die3}", (("a",),), (1,)) == "a and {die3}"


def test_outcomes_enumerate_in_index_order() -> None:
    outs = all_outcomes(3, 4)
    assert len(outs) == outcome_count(3, 4) == 64
    assert [outcome_index(o, 4) for o in outs] == list(range(64))


@pytest.mark.parametrize(
    ("faces", "message"),
    [((1,), "has 1 faces"), ((1, 7), "die 2 shows 7"), ((0, 1), "die 1 shows 0")],
)
def test_throw_validation_names_the_problem(faces: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Throw(faces).validate(2, 6)


def approved_rule(*entries: str, mode: str = "fixed") -> VariationRule:
    from dataclasses import replace

    from installation.core.variations import parse_approval

    return replace(
        rule(mode), approved_only=True, approved=tuple(parse_approval(e) for e in entries)
    )


def test_approved_only_keeps_approved_outcomes_and_their_seeds() -> None:
    r = approved_rule("3-5", "6-6@1234")
    assert derive_variation(r, Throw((3, 5))) == derive_variation(rule(), Throw((3, 5)))
    pinned = derive_variation(r, Throw((6, 6)))
    assert (pinned.key, pinned.seed) == ("6-6", 1234)


def test_approved_only_shows_an_approved_variation_for_other_outcomes() -> None:
    r = approved_rule("3-5", "6-6@1234")
    shown = {derive_variation(r, Throw(o)).key for o in all_outcomes(2, 6)}
    assert shown == {"3-5", "6-6"}
    sub = derive_variation(r, Throw((1, 2)))
    assert sub.meta == {"thrown": "1-2", "approved_instead": sub.key}
    assert derive_variation(r, Throw((1, 2))) == sub  # deterministic


def test_approved_only_does_not_restrict_safety_rerolls() -> None:
    r = approved_rule("3-5")
    v = derive_variation(r, Throw((3, 5)))
    assert reroll(r, v).seed == derive_seed("s", "3-5", None, 1)


def test_parse_approval_names_the_accepted_forms() -> None:
    from installation.core.variations import Approval, parse_approval

    assert parse_approval("3-5@12") == Approval((3, 5), 12)
    with pytest.raises(ValueError, match="faces@seed"):
        parse_approval("three")


def test_blocked_seeds_are_never_derived_for_any_caller() -> None:
    from dataclasses import replace

    plain = derive_variation(rule(), Throw((2, 5)))
    blocked = replace(rule(), blocked_seeds=frozenset({plain.seed}))
    v = derive_variation(blocked, Throw((2, 5)))
    assert v.seed != plain.seed and v.reroll == 1
    assert v.seed == derive_seed("s", "2-5", None, 1)
    # re-rolls skip blocked seeds too
    r1 = derive_seed("s", "2-5", None, 1)
    both = replace(rule(), blocked_seeds=frozenset({plain.seed, r1}))
    assert derive_variation(both, Throw((2, 5))).reroll == 2
    assert reroll(both, plain).reroll == 2
