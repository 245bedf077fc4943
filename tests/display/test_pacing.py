"""Frame pacing: a 1/fps grid that is never early, that news (the wake event) cuts short
without shifting the grid, and that a flood of wakes cannot turn into a spinning loop."""

from __future__ import annotations

import itertools
import threading
import time

from installation.app.inbox import Inbox
from installation.core import events as ev
from installation.core.throws import Throw
from installation.display.pacing import FramePacer
from tests.display.kiosk_helpers import RED, KioskFactory, solid


def test_a_frame_is_never_shorter_than_its_period_without_news() -> None:
    pacer = FramePacer()
    pacer.wait(50)  # starts the grid
    for _ in range(5):
        deadline = pacer.next_deadline
        assert deadline is not None
        assert pacer.wait(50) is False
        assert time.perf_counter() >= deadline
    assert pacer.woken == 0


def test_news_from_another_thread_ends_the_wait_and_keeps_the_grid() -> None:
    pacer = FramePacer()
    pacer.wait(10)
    grid = pacer.next_deadline
    assert grid is not None
    thread = threading.Thread(target=pacer.wake.set)
    thread.start()
    # fps 10: without the wake this wait would last until `grid`; with it, it returns True
    assert pacer.wait(10) is True
    thread.join(10)
    assert pacer.woken == 1
    assert not pacer.wake.is_set()  # consumed
    assert pacer.next_deadline == grid  # the extra frame does not shift the cadence
    assert pacer.wait(10) is False
    assert time.perf_counter() >= grid


def test_a_flood_of_wakes_never_makes_frames_closer_or_more_than_the_limits() -> None:
    pacer = FramePacer(min_frame_s=0.004, max_woken=3)
    pacer.wait(10)
    returns, woken = [], []
    for _ in range(8):  # every wait finds news waiting
        pacer.wake.set()
        woken.append(pacer.wait(10))
        returns.append(pacer.returned_at)
    gaps = [b - a for a, b in itertools.pairwise(returns)]
    assert min(gaps) >= 0.004
    # three woken frames, then the grid's own frame however much news is waiting
    assert woken == [True, True, True, False, True, True, True, False]


class SteppingClock:
    """Every reading is 1 ms later than the last: the pacer's arithmetic is exact."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        self.t += 0.001
        return self.t


def test_a_stalled_loop_restarts_the_grid_instead_of_bursting() -> None:
    clock = SteppingClock()
    pacer = FramePacer(clock=clock)
    pacer.wait(100)
    pacer.wait(100)
    assert pacer.late == 0
    clock.t += 0.05  # the loop stalls for five frames
    pacer.wait(100)
    assert pacer.late == 1
    deadline = pacer.next_deadline
    assert deadline is not None
    # the next frame is a whole period away, not due at once to catch up
    assert deadline - pacer.returned_at >= 0.01 - 0.003


def test_a_committed_throw_in_the_inbox_wakes_the_frame_loop() -> None:
    inbox = Inbox()
    inbox.put(ev.DiceRolling(0))
    inbox.put(ev.Fault("x", "y"))
    assert not inbox.wake.is_set()  # only news the wall must show at once
    inbox.put(ev.ThrowCommitted(Throw((1, 2))))
    assert inbox.wake.is_set()
    inbox.wake.clear()
    inbox.put(ev.RandomThrow("osc"))
    assert inbox.wake.is_set()


def test_a_finished_slide_wakes_the_kiosk_so_it_goes_up_without_waiting_a_frame(
    make_kiosk: KioskFactory,
) -> None:
    kiosk = make_kiosk(fps=10, transition_ms=0)
    kiosk.frame()
    assert kiosk.wait_ready()
    before = kiosk.presents_placed
    kiosk.present(solid(RED), None)
    # at 10 fps the wait lasts 100 ms unless the painter's news ends it; a slide that small
    # is painted well before, so the wait is cut short
    kiosk.frame()
    while kiosk.presents_placed == before:
        kiosk.frame()
    assert kiosk.stats()["woken"] >= 1
