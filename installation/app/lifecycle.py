"""Starting and stopping the parts of a running show (mopidy's pattern).

Parts start in order; if one fails, the started ones stop in reverse and the error
goes on, so a failed start leaves no window, worker child, thread or socket behind.
Stopping goes on whatever one part does. A part rebuilt by a reload takes the old
one's place, so the final stop stops what runs, not what ran at start.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable

from installation.app import runtime
from installation.app.contracts import Part, Stoppable
from installation.errors import InstallationError

log = logging.getLogger("installation.app")

FRAME_FAILURE_BURST = 50  # frames failing within BURST_S end the process
BURST_S = 10.0


def run_frames(
    step: Callable[[], None],
    running: Callable[[], bool],
    failed: Callable[[], None],
    clock: Callable[[], float],
) -> int:
    """Run frames while `running()`. A failing frame is logged and counted (`failed`) and
    the show goes on; a burst of them (a broken install, not a bad input) returns 1."""
    failures: deque[float] = deque(maxlen=FRAME_FAILURE_BURST)
    with runtime.frame_loop():
        while running():
            try:
                step()
            except Exception:
                log.exception("a frame failed; the show goes on")
                failed()
                failures.append(clock())
                if len(failures) == failures.maxlen and failures[-1] - failures[0] < BURST_S:
                    log.critical("%d frames failed within %g s; stopping", len(failures), BURST_S)
                    return 1
    return 0


class Started:
    def __init__(self) -> None:
        self.parts: list[Part] = []

    def __repr__(self) -> str:
        return f"<Started {[type(p).__name__ for p in self.parts]}>"

    def start(self, parts: Iterable[Part], after: Callable[[Part], None] | None = None) -> None:
        """Start each part in order (calling `after` once each is up); on any failure stop
        the started ones in reverse and raise."""
        for part in parts:
            try:
                part.start()
                self.parts.append(part)
                if after is not None:
                    after(part)
            except BaseException as e:
                # a predictable failure is said once, in one line, by whoever catches it
                level = logging.DEBUG if isinstance(e, InstallationError) else logging.ERROR
                log.log(level, "%s did not start; stopping what did", type(part).__name__)
                self.stop()
                raise

    def replace(self, old: Part | None, new: Part | None) -> None:
        self.parts = [p for p in self.parts if p is not old]
        if new is not None:
            self.parts.append(new)

    def stop(self, first: Iterable[Stoppable] = ()) -> None:
        """Stop `first` (helpers that are not started parts), then the parts in reverse."""
        parts, self.parts = list(reversed(self.parts)), []
        for part in [*first, *parts]:
            try:
                part.stop()
            except Exception:  # stopping must go on whatever one part does
                log.exception("error while stopping %s", type(part).__name__)
