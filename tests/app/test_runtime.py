"""The frame loop's interpreter settings: start-up's heap frozen, a 1 ms GIL switch
interval while frames run, both undone when the loop ends (even by an error)."""

from __future__ import annotations

import gc
import sys

import pytest

from installation.app import runtime
from installation.app.lifecycle import run_frames


def test_the_frame_loop_freezes_the_heap_and_shortens_the_switch_interval() -> None:
    before = sys.getswitchinterval()
    seen: list[tuple[float, int]] = []

    def step() -> None:
        seen.append((sys.getswitchinterval(), gc.get_freeze_count()))

    assert run_frames(step, lambda: len(seen) < 3, lambda: None, lambda: 0.0) == 0
    assert all(interval == runtime.SWITCH_INTERVAL_S for interval, _ in seen)
    assert all(frozen > 1000 for _, frozen in seen)  # the test process's own objects
    assert sys.getswitchinterval() == before and gc.get_freeze_count() == 0


def test_both_are_undone_when_the_loop_ends_with_an_error() -> None:
    before = sys.getswitchinterval()

    def step() -> None:
        raise KeyboardInterrupt  # not a frame error: it leaves the loop

    with pytest.raises(KeyboardInterrupt):
        run_frames(step, lambda: True, lambda: None, lambda: 0.0)
    assert sys.getswitchinterval() == before and gc.get_freeze_count() == 0
