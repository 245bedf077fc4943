from __future__ import annotations

from installation.core.dice import Throw
from installation.core.director import (
    Cue,
    Director,
    DirectorConfig,
    EnterState,
    PersistCount,
    Present,
    Render,
    State,
)
from installation.core.variations import RenderParams, VariationRule

RULE = VariationRule(
    seed_mode="fixed",
    salt="s",
    prompt="p {die1}",
    variants=(),
    negative_prompt="",
    params=RenderParams(0.5, 4, 1.0, 64, 64),
    faces_per_die=6,
)
CFG = DirectorConfig(dice=2, faces=6, attract_after_s=60.0)


def kinds(actions: list[object]) -> list[str]:
    out = []
    for a in actions:
        if isinstance(a, Cue):
            out.append(f"cue:{a.name}")
        elif isinstance(a, EnterState):
            out.append(f"state:{a.state.value}")
        else:
            out.append(type(a).__name__)
    return out


def test_starts_in_attract_when_open_and_standby_when_closed() -> None:
    assert Director(CFG, RULE, now=0).state is State.ATTRACT
    assert Director(CFG, RULE, now=0, is_open=False).state is State.STANDBY


def test_full_throw_cycle() -> None:
    d = Director(CFG, RULE, now=0)
    assert kinds(d.dice_rolling(1.0)) == ["state:rolling", "cue:started"]
    acts = d.throw(Throw((3, 5)), 2.0)
    assert kinds(acts) == ["cue:landed", "Render"]
    render = acts[-1]
    assert isinstance(render, Render) and render.variation.key == "3-5"
    acts = d.image_ready(render.variation, 2.5)
    assert kinds(acts) == ["cue:ready", "state:presenting", "Present", "cue:shown"]
    assert d.shown == render.variation and d.pending is None


def test_superseded_image_is_not_presented() -> None:
    d = Director(CFG, RULE, now=0)
    old = d.throw(Throw((1, 1)), 1.0)[-1]
    new = d.throw(Throw((2, 2)), 1.1)[-1]
    assert isinstance(old, Render) and isinstance(new, Render)
    assert d.image_ready(old.variation, 1.2) == []
    assert any(isinstance(a, Present) for a in d.image_ready(new.variation, 1.3))


def test_idle_presenting_returns_to_attract_on_fake_clock() -> None:
    d = Director(CFG, RULE, now=0)
    r = d.throw(Throw((1, 2)), 10.0)[-1]
    assert isinstance(r, Render)
    d.image_ready(r.variation, 11.0)
    assert d.tick(70.9) == []
    assert kinds(d.tick(71.0)) == ["state:attract", "cue:attract"]
    assert d.state is State.ATTRACT


def test_cancel_returns_to_previous_state() -> None:
    d = Director(CFG, RULE, now=0)
    d.dice_rolling(1.0)
    assert kinds(d.throw_cancelled(2.0, "picked up")) == ["state:attract", "cue:cancelled"]


def test_cancel_ignored_once_a_render_is_pending() -> None:
    d = Director(CFG, RULE, now=0)
    d.throw(Throw((1, 2)), 1.0)
    assert d.throw_cancelled(2.0, "late") == []
    assert d.state is State.ROLLING


def test_closed_ignores_dice_and_bad_throws_are_ignored_with_reason() -> None:
    d = Director(CFG, RULE, now=0, is_open=False)
    assert d.dice_rolling(1.0) == []
    (cue,) = d.throw(Throw((1, 2)), 1.0)
    assert isinstance(cue, Cue) and cue.reason == "closed"
    d.open(2.0)
    (cue,) = d.throw(Throw((1, 9)), 3.0)
    assert isinstance(cue, Cue) and cue.name == "ignored" and "die 2 shows 9" in cue.reason
    assert d.state is State.ATTRACT


def test_close_drops_pending_and_open_returns_to_attract() -> None:
    d = Director(CFG, RULE, now=0)
    r = d.throw(Throw((1, 2)), 1.0)[-1]
    assert kinds(d.close(2.0)) == ["state:standby", "cue:close"]
    assert isinstance(r, Render)
    assert d.image_ready(r.variation, 3.0) == []
    assert kinds(d.open(4.0)) == ["state:attract", "cue:open"]


def test_fresh_mode_counts_and_persists_before_rendering() -> None:
    rule = VariationRule(**{**RULE.__dict__, "seed_mode": "fresh"})
    d = Director(CFG, rule, now=0, count=41)
    acts = d.throw(Throw((1, 2)), 1.0)
    persist = next(a for a in acts if isinstance(a, PersistCount))
    render = next(a for a in acts if isinstance(a, Render))
    assert persist.count == 42 and render.variation.number == 42
    assert acts.index(persist) < acts.index(render)


def test_reroll_replaces_pending_only_for_the_awaited_variation() -> None:
    from installation.core.variations import reroll

    d = Director(CFG, RULE, now=0)
    r = d.throw(Throw((1, 2)), 1.0)[-1]
    assert isinstance(r, Render)
    new = reroll(RULE, r.variation)
    assert kinds(d.rerolled(r.variation, new)) == ["cue:rerolled", "Render"]
    assert d.pending == new
    assert d.rerolled(r.variation, reroll(RULE, new)) == []  # old one no longer awaited
    assert d.image_ready(r.variation, 2.0) == []
    assert kinds(d.image_ready(new, 2.0))[2] == "Present"


def test_fresh_mode_counts_repeats_per_outcome_and_looks_ahead() -> None:
    rule = VariationRule(**{**RULE.__dict__, "seed_mode": "fresh"})
    d = Director(CFG, rule, now=0, count=10, repeats={"1-2": 4})
    ahead = d.next_variation((1, 2))
    acts = d.throw(Throw((1, 2)), 1.0)
    render = next(a for a in acts if isinstance(a, Render))
    persist = next(a for a in acts if isinstance(a, PersistCount))
    assert render.variation == ahead  # what pre-rendering prepared is what the throw asks for
    assert (render.variation.number, render.variation.repeat) == (11, 5)
    assert persist.repeats == {"1-2": 5}
    assert d.next_variation((1, 2)).seed != ahead.seed


def test_a_roll_with_no_image_is_given_up_and_the_wall_keeps_its_picture() -> None:
    cfg = DirectorConfig(dice=2, faces=6, attract_after_s=600.0, give_up_after_s=100.0)
    d = Director(cfg, RULE, now=0)
    first = d.throw(Throw((1, 1)), 1.0)[-1]
    assert isinstance(first, Render)
    d.image_ready(first.variation, 2.0)
    d.throw(Throw((2, 2)), 10.0)  # every re-roll of this one will be refused
    assert d.tick(109.9) == []
    assert kinds(d.tick(110.0)) == ["state:presenting", "cue:cancelled"]
    assert d.pending is None and d.shown == first.variation


def test_give_up_only_for_the_awaited_variation() -> None:
    d = Director(CFG, RULE, now=0)
    r = d.throw(Throw((3, 3)), 1.0)[-1]
    assert isinstance(r, Render)
    other = d.next_variation((4, 4))
    assert d.give_up(other, 2.0, "x") == []
    assert kinds(d.give_up(r.variation, 2.0, "refused")) == ["state:attract", "cue:cancelled"]
