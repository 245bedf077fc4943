"""Wake the frame loop when the worker child has sent something.

The display loop reads the child's pipe once per frame, so a finished image waited up to
a frame (16.7 ms at 60 Hz) before anyone looked. PipeWatcher is a thread that waits for
the pipe to become readable and sets the frame pacing's wake event (display/pacing.py):
the loop polls at once. It never reads the pipe itself (the frame loop stays its only
reader) and wakes at most once per poll() of the client, so heartbeats and a flood of
messages cost at most one early frame each.
"""

from __future__ import annotations

import threading
from multiprocessing.connection import Connection, wait

POLL_TIMEOUT_S = 1.0  # re-arm after this even if the client stopped polling


class PipeWatcher:
    """One per child life: started with the pipe, stopped before the pipe is closed."""

    def __init__(self, conn: Connection, wake: threading.Event) -> None:
        self._conn, self._wake = conn, wake
        self._polled = threading.Event()
        self._stopped = threading.Event()
        self.wakes = 0
        self._thread = threading.Thread(target=self._run, name="worker-watch", daemon=True)
        self._thread.start()

    def polled(self) -> None:
        """The client has read the pipe: watch it again."""
        self._polled.set()

    def stop(self) -> None:
        """Stop watching (the thread ends within a poll timeout; it is a daemon)."""
        self._stopped.set()
        self._polled.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                ready = wait([self._conn], timeout=0.25)
            except (OSError, ValueError):  # the pipe was closed under us: the life ended
                return
            if ready and not self._stopped.is_set():
                self._polled.clear()
                self.wakes += 1
                self._wake.set()
                self._polled.wait(POLL_TIMEOUT_S)
