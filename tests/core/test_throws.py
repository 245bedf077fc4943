"""Every throw rule, on plain numbers for time."""

from __future__ import annotations

import pytest

from installation.core.dice import Throw
from installation.core.events import DiceRolling, ThrowCancelled, ThrowCommitted
from installation.core.throws import DieEvent, DieState, ThrowDetector

R, H, C, L = DieState.ROLLING, DieState.HANDLING, DieState.CROOKED, DieState.LANDED


def ev(die: int, state: DieState, face: int = 0) -> DieEvent:
    return DieEvent(die, state, face)


def test_roll_then_land_commits_after_settle() -> None:
    d = ThrowDetector(2, settle_ms=300, timeout_s=8)
    assert d.feed(ev(1, R), 0.0) == [DiceRolling("dice")]
    assert d.feed(ev(2, R), 0.1) == []
    assert d.feed(ev(1, L, 3), 0.5) == []
    assert d.feed(ev(2, L, 5), 0.6) == []
    assert d.tick(0.89) == []
    assert d.tick(0.9) == [ThrowCommitted(Throw((3, 5), source="dice"))]
    assert d.tick(2.0) == []
    assert not d.in_throw


def test_settle_zero_commits_on_the_last_landing() -> None:
    d = ThrowDetector(1, settle_ms=0, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    assert d.feed(ev(1, L, 6), 0.2) == [ThrowCommitted(Throw((6,)))]


def test_any_change_restarts_the_settle_window() -> None:
    d = ThrowDetector(2, settle_ms=300, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(1, L, 3), 0.1)
    d.feed(ev(2, L, 4), 0.2)
    d.feed(ev(2, L, 2), 0.4)  # die 2 tipped over to another face
    assert d.tick(0.6) == []
    assert d.tick(0.7) == [ThrowCommitted(Throw((3, 2)))]


def test_repeated_identical_reports_do_not_restart_settle() -> None:
    d = ThrowDetector(1, settle_ms=300, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(1, L, 4), 0.1)
    assert d.feed(ev(1, L, 4), 0.35) == []
    assert d.feed(ev(1, L, 4), 0.4) == [ThrowCommitted(Throw((4,)))]


def test_die_that_landed_then_rolls_again_must_land_again() -> None:
    d = ThrowDetector(2, settle_ms=100, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(1, L, 1), 0.1)
    d.feed(ev(2, L, 2), 0.1)
    d.feed(ev(1, R), 0.15)
    assert d.tick(1.0) == []
    d.feed(ev(1, L, 6), 1.1)
    assert d.tick(1.2) == [ThrowCommitted(Throw((6, 2)))]


def test_handling_cancels_the_throw() -> None:
    d = ThrowDetector(2, settle_ms=300, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(1, L, 3), 0.2)
    out = d.feed(ev(2, H), 0.3)
    assert len(out) == 1 and isinstance(out[0], ThrowCancelled)
    assert "die 2" in out[0].reason and "picked up" in out[0].reason
    d.feed(ev(2, L, 5), 0.5)
    assert d.tick(5.0) == []  # no throw open any more


def test_handling_outside_a_throw_only_updates_state() -> None:
    d = ThrowDetector(1)
    assert d.feed(ev(1, H), 0.0) == []
    assert d.snapshot()["dice"] == [{"die": 1, "state": "HANDLING", "face": 0}]


def test_crooked_keeps_the_throw_open_until_it_lands() -> None:
    d = ThrowDetector(2, settle_ms=300, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(1, L, 2), 0.2)
    d.feed(ev(2, C), 0.2)
    assert d.tick(3.0) == []
    assert d.in_throw
    d.feed(ev(2, L, 4), 3.0)
    assert d.tick(3.3) == [ThrowCommitted(Throw((2, 4)))]


def test_landed_then_crooked_blocks_commit() -> None:
    d = ThrowDetector(1, settle_ms=100, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(1, L, 2), 0.05)
    d.feed(ev(1, C), 0.1)
    assert d.tick(1.0) == []


def test_timeout_drops_the_throw_and_names_the_waiting_die() -> None:
    d = ThrowDetector(2, settle_ms=300, timeout_s=8)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(1, L, 1), 0.5)
    d.feed(ev(2, C), 0.5)
    assert d.tick(7.99) == []
    out = d.tick(8.0)
    assert len(out) == 1 and isinstance(out[0], ThrowCancelled)
    assert out[0].reason.startswith("timeout") and "die 2 CROOKED" in out[0].reason
    assert not d.in_throw


def test_die_that_never_reported_since_start_blocks_commit() -> None:
    d = ThrowDetector(2, settle_ms=100, timeout_s=2)
    d.feed(ev(2, L, 6), 0.0)  # resting from before
    d.feed(ev(1, R), 1.0)
    d.feed(ev(1, L, 3), 1.1)
    assert d.tick(1.5) == []
    # e.g. the answer to ?STATE: no change, and die 1 has rested long enough already
    assert d.feed(ev(2, L, 6), 1.6) == [ThrowCommitted(Throw((3, 6)))]


def test_landed_without_rolling_commits_nothing() -> None:
    d = ThrowDetector(2, settle_ms=0, timeout_s=8)
    assert d.feed(ev(1, L, 3), 0.0) == []
    assert d.feed(ev(2, L, 4), 0.0) == []
    assert d.tick(100.0) == []
    assert d.faces == [3, 4]


def test_new_throw_after_commit_and_after_cancel() -> None:
    d = ThrowDetector(1, settle_ms=0, timeout_s=1)
    d.feed(ev(1, R), 0.0)
    d.tick(1.0)
    assert d.feed(ev(1, R), 2.0) == [DiceRolling("dice")]
    assert d.feed(ev(1, L, 5), 2.1) == [ThrowCommitted(Throw((5,)))]
    assert d.feed(ev(1, R), 3.0) == [DiceRolling("dice")]


def test_second_rolling_in_a_throw_is_not_a_new_start() -> None:
    d = ThrowDetector(2)
    assert d.feed(ev(1, R), 0.0) == [DiceRolling("dice")]
    assert d.feed(ev(2, R), 0.0) == []
    assert d.feed(ev(1, R), 0.1) == []


def test_out_of_range_dice_are_ignored() -> None:
    d = ThrowDetector(2)
    assert d.feed(ev(3, R), 0.0) == []
    assert d.feed(ev(0, R), 0.0) == []
    assert not d.in_throw


def test_lost_dice_cancel_an_open_throw_and_are_forgotten() -> None:
    d = ThrowDetector(2, settle_ms=0)
    d.feed(ev(2, L, 4), 0.0)
    d.feed(ev(1, R), 0.1)
    out = d.lost([2], 0.2, "port /dev/dice0 unplugged")
    assert out == [ThrowCancelled("lost: port /dev/dice0 unplugged")]
    assert d.states[1] is None and d.faces[1] == 0
    assert d.lost([1], 0.3, "again") == []


def test_repr_and_snapshot_show_live_state() -> None:
    d = ThrowDetector(2)
    d.feed(ev(1, R), 0.0)
    d.feed(ev(2, L, 6), 0.0)
    assert repr(d) == "<ThrowDetector open 1:ROLLING 2:LANDED/6>"
    snap = d.snapshot()
    assert snap["throw_open"] is True and snap["landed_since_start"] == [2]


@pytest.mark.parametrize(
    ("args", "word"), [((0, 300, 8.0), "dice"), ((1, -1, 8.0), "settle_ms"), ((1, 1, 0), "timeout")]
)
def test_bad_settings_are_named(args: tuple[int, int, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        ThrowDetector(*args)


def test_next_deadline_is_the_settle_end_once_all_dice_landed() -> None:
    from installation.core.throws import DieEvent, DieState, ThrowDetector

    d = ThrowDetector(dice=2, settle_ms=300, timeout_s=8.0)
    assert d.next_deadline() is None
    d.feed(DieEvent(1, DieState.ROLLING), 10.0)
    assert d.next_deadline() == 18.0  # only the timeout while dice still roll
    d.feed(DieEvent(1, DieState.LANDED, 3), 10.5)
    d.feed(DieEvent(2, DieState.LANDED, 4), 10.7)
    assert d.next_deadline() == 10.7 + 0.3
    assert d.tick(11.0) != []
    assert d.next_deadline() is None


def test_a_die_left_on_the_table_counts_when_the_show_allows_it() -> None:
    from installation.core.throws import DieEvent, DieState, ThrowDetector

    for must_move, committed in ((True, False), (False, True)):
        d = ThrowDetector(2, settle_ms=300, timeout_s=8, every_die_must_move=must_move)
        d.feed(DieEvent(2, DieState.LANDED, 5), 0.0)  # lying there from an earlier throw
        d.feed(DieEvent(1, DieState.ROLLING), 1.0)  # the visitor throws die 1 only
        d.feed(DieEvent(1, DieState.LANDED, 3), 1.5)
        events = d.tick(1.8)
        assert bool(events) is committed
        if committed:
            (event,) = events
            assert event.throw.faces == (3, 5)


def test_a_die_never_seen_is_never_assumed() -> None:
    from installation.core.throws import DieEvent, DieState, ThrowDetector

    d = ThrowDetector(2, settle_ms=300, timeout_s=8, every_die_must_move=False)
    d.feed(DieEvent(1, DieState.ROLLING), 1.0)
    d.feed(DieEvent(1, DieState.LANDED, 3), 1.5)
    assert d.tick(5.0) == []  # die 2 has never reported a face
