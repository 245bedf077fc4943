"""A plain-text progress bar with ETA for long commands (prerender, sheet)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


class ProgressBar:
    """A plain-text progress bar with ETA: redrawn with \\r on a tty, else a line per 10%."""

    def __init__(
        self,
        total: int,
        stream: TextIO,
        *,
        what: str = "prerender",
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.stream, self.clock, self.what = total, stream, clock, what
        self.tty = stream.isatty() if tty is None else tty
        self.started = clock()
        self._tenth = 0

    def update(self, done: int) -> None:
        tenth = done * 10 // max(1, self.total)
        if self.tty:
            self.stream.write("\r" + self.line(done))
        elif tenth > self._tenth or done == self.total:
            self.stream.write(self.line(done) + "\n")
        self._tenth = max(self._tenth, tenth)
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self, done: int) -> str:
        total = max(1, self.total)
        filled = 24 * done // total
        spent = self.clock() - self.started
        each = spent / done if done else 0.0
        eta = "--:--" if not done else _clock_text(each * (self.total - done))
        return (
            f"{self.what} [{'#' * filled}{'.' * (24 - filled)}] {done}/{self.total} "
            f"{100 * done // total:3d}%  {each:.2f} s each  ETA {eta}"
        )


def _clock_text(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
