"""RateLog: trouble logged by kind at most once a window, in bounded memory (a fake clock)."""

from __future__ import annotations

import logging

import pytest

from installation.dice.ratelog import OTHERS, RateLog


class Said:
    """What was logged so far (caplog.messages is a fresh list on every read)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def __call__(self) -> list[str]:
        return self.caplog.messages


@pytest.fixture
def said(caplog: pytest.LogCaptureFixture) -> Said:
    caplog.set_level(logging.INFO, logger="test.ratelog")
    return Said(caplog)


def make() -> RateLog:
    return RateLog(logging.getLogger("test.ratelog"), "/dev/dice0", every_s=60, max_names=3)


def test_a_repeated_kind_is_said_once_a_window_with_what_was_held_back(said: Said) -> None:
    r = make()
    assert r.log("drop", "checksum", 0.0, "bad sum 1")
    for i in range(999):
        assert not r.log("drop", "checksum", 1.0 + i * 0.01, f"bad sum {i + 2}")
    assert said() == ["/dev/dice0: bad sum 1"]
    assert r.log("drop", "checksum", 61.0, "bad sum 1001")
    assert said()[-1] == "/dev/dice0: bad sum 1001 (999 more held back in the last 61 s)"


def test_flush_sums_up_what_was_held_back_once_the_window_ends(said: Said) -> None:
    r = make()
    r.log("err", "IMU", 0.0, "no IMU")
    r.log("err", "IMU", 5.0, "no IMU again")
    assert r.flush(59.0) == 0  # the window is still open
    assert r.flush(60.0) == 1
    assert said()[-1] == (
        "/dev/dice0: 1 more err IMU lines held back in the last 60 s; the latest: no IMU again"
    )
    assert r.flush(200.0) == 0  # nothing held since: nothing to say


def test_unbounded_names_fold_into_others_and_state_stays_bounded(said: Said) -> None:
    r = make()
    for i in range(20_000):
        r.log("err", f"E{i}", i * 0.001, f"fault {i}")
    assert len(said()) == 4  # E0, E1, E2 and the first pooled one
    assert "too many kinds of err" in said()[-1] and "fault 3" in said()[-1]
    assert len(r) == 4
    assert r.flush(100.0) == 1
    assert said()[-1].startswith("/dev/dice0: 19996 more other err lines held back")
    assert OTHERS in r.names("err")


def test_a_quiet_name_makes_room_for_a_new_one_after_its_window(said: Said) -> None:
    r = make()
    for name in "abc":
        r.log("err", name, 0.0, name)
    r.log("err", "d", 1.0, "d")  # full, and a..c still in their window: pooled
    assert "too many kinds" in said()[-1]
    r.log("err", "e", 70.0, "e")  # a..c are quiet and past their window: e gets a place
    assert said()[-1] == "/dev/dice0: e"
    assert "e" in r.names("err") and "a" not in r.names("err")
    assert len(r) <= 4


def test_kinds_are_limited_apart(said: Said) -> None:
    r = make()
    for i in range(10):
        r.log("err", f"E{i}", 0.0, f"err {i}")
    assert r.log("drop", "checksum", 0.0, "a drop is still said")
    assert r.log("hello", "again", 0.0, "so is a HELLO")
