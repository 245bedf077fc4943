"""Frame pacing that does not lean on SDL_Delay, and that a throw can cut short.

`Clock.tick(fps)` sleeps with SDL_Delay, whose granularity is 1 ms at best and about
10 ms on some systems, so frames drift late and jitter by that much. FramePacer keeps a
grid of deadlines (one per 1/fps): it waits on the wake event until SPIN_S before the
deadline (a futex wait, microsecond-accurate), then spins for the rest holding the GIL,
so no other thread takes it just as the frame is due (app/runtime.py shortens the GIL's
switch interval for the same reason).

The wake event is set by whoever has news the wall should show at once (a committed
throw in the inbox, a slide finished painting): the wait returns early and the frame
loop runs its next step now instead of up to a frame later. The grid is kept, so an
extra frame never shifts the cadence. News often comes in quick succession (a picture's
journal write begins, then it is on disk a millisecond later), so woken frames may follow
MIN_FRAME_S apart, but at most MAX_WOKEN of them per frame of the grid: a flood of wakes
cannot spin the loop (at 60 fps, at most 420 frames a second). With vsync the flip itself waits for
the display, so the pacer only waits when the loop runs ahead of the target rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SPIN_S = 0.0015  # the last stretch before a deadline is spun (the GIL held)
MIN_FRAME_S = 0.001  # an early wake never makes frames closer than this
MAX_WOKEN = 6  # woken frames between two frames of the grid (a live picture wakes it 4 times)


class FramePacer:
    """Waits for the next frame's deadline, or less when `wake` is set."""

    def __init__(
        self,
        wake: threading.Event | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        spin_s: float = SPIN_S,
        min_frame_s: float = MIN_FRAME_S,
        max_woken: int = MAX_WOKEN,
    ) -> None:
        self.wake = wake if wake is not None else threading.Event()
        self._clock = clock
        self.spin_s = spin_s
        self.min_frame_s = min_frame_s
        self.max_woken = max_woken
        self._run = 0  # woken frames since the grid's last one
        self._next: float | None = None  # the grid's next deadline
        self._last = 0.0  # when the previous wait returned
        self.woken = 0  # waits cut short by the wake event
        self.late = 0  # frames that missed their deadline (the grid restarts from now)

    @property
    def next_deadline(self) -> float | None:
        """When the grid's next frame is due (None before the first wait)."""
        return self._next

    @property
    def returned_at(self) -> float:
        """When the last wait returned (the pacer's clock)."""
        return self._last

    def wait(self, fps: float, vsync: bool = False) -> bool:
        """Return at the next deadline of a 1/fps grid, or earlier (True) when woken."""
        period = 1.0 / fps if fps > 0 else 0.0
        now = self._clock()
        if self._next is None or now - self._next > period:
            if self._next is not None:
                self.late += 1
            self._next = now + period  # first frame, or far behind: no catch-up burst
        deadline = self._next
        if vsync:  # the flip already waited for the display; only a fast loop waits here
            deadline = max(now, deadline - period / 2)
        earliest = self._last + self.min_frame_s
        woken = self._sleep(deadline, earliest if self._run < self.max_woken else deadline)
        self._run = self._run + 1 if woken else 0
        if not woken:
            self._next = max(self._next + period, self._clock() - period)
        self._last = self._clock()
        return woken

    def _sleep(self, deadline: float, earliest: float) -> bool:
        clock, wake = self._clock, self.wake
        while True:
            now = clock()
            left = deadline - now
            if left <= 0:
                return False
            if now >= earliest and wake.is_set():
                wake.clear()
                self.woken += 1
                return True
            if left > self.spin_s:
                # wait for the event (or the spin point); before `earliest` just sleep
                timeout = left - self.spin_s
                if now < earliest:
                    time.sleep(min(timeout, earliest - now))
                else:
                    wake.wait(timeout)
            else:
                # the last stretch: spin holding the GIL (sleep(0) gave it to whichever
                # thread wanted it, and getting it back took up to a switch interval)
                while clock() < deadline:
                    pass
                return False
