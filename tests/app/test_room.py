from __future__ import annotations

from dataclasses import replace

import numpy as np

from installation.app.room import Room as ClusterSync
from installation.core.variations import (
    RenderParams,
    VariationRule,
    parse_approval,
    reroll,
)
from installation.worker.replies import Result

RULE = VariationRule(
    seed_mode="fixed",
    salt="follower",
    prompt="mine {die1}",
    variants=(tuple("abcdef"),),
    negative_prompt="",
    params=RenderParams(0.5, 4, 1.0, 64, 64),
    faces_per_die=6,
    paintings=2,
)


class Link:
    role = "follower"

    def __init__(self) -> None:
        self.ready: list[str] = []

    def local_ready(self, vid: str) -> None:
        self.ready.append(vid)


def test_follower_renders_its_own_piece_with_the_leaders_seed() -> None:
    sync = ClusterSync(Link())
    v = sync.shared_variation(RULE, (3,), seed=4242, number=17, vid="L-1")
    assert (v.seed, v.number, v.prompt, v.painting) == (4242, 17, "mine c", 4242 % 2)
    assert sync.hold(Result(v, np.zeros((4, 4, 3), np.uint8), "test", 1.0), 10.0)
    assert sync.link.ready == ["L-1"]


def test_a_rerolled_follower_image_still_flips_with_the_room() -> None:
    sync = ClusterSync(Link())
    v = sync.shared_variation(RULE, (3,), seed=4242, number=17, vid="L-1")
    again = sync.rerolled(v, reroll(RULE, v))
    assert again.number == 17  # the room's number, so every label agrees
    assert sync.hold(Result(again, np.zeros((4, 4, 3), np.uint8), "test", 1.0), 10.0)  # held
    sync.present_at("L-1", 100.0)
    assert sync.due(99.0) == []
    (held,) = sync.due(100.0)
    assert held.variation == again


def test_follower_curator_rules_win_over_the_shared_seed() -> None:
    sync = ClusterSync(Link())
    blocked = replace(RULE, blocked_seeds=frozenset({4242}))
    b = sync.shared_variation(blocked, (3,), seed=4242, number=17, vid="a")
    assert b.seed != 4242 and b.number == 17
    approved = replace(RULE, approved_only=True, approved=(parse_approval("5@77"),))
    v = sync.shared_variation(approved, (3,), seed=4242, number=9, vid="b")
    assert (v.key, v.seed, v.number) == ("5", 77, 9)


def test_an_image_the_room_never_flipped_to_is_given_back() -> None:
    sync = ClusterSync(Link())
    v = sync.shared_variation(RULE, (3,), seed=1, number=2, vid="L-9")
    assert sync.hold(Result(v, np.zeros((4, 4, 3), np.uint8), "test", 1.0), 100.0)
    assert sync.expired(104.0, limit_s=5.0) == []
    (late,) = sync.expired(105.0, limit_s=5.0)
    assert late.variation == v
    assert sync.due(200.0) == []
