"""Worker children that were replaced: terminated, killed after a grace, always reaped.

A replaced child must never be left alive (on a GPU it keeps its VRAM) nor as a zombie.
The parent's frame loop calls reap() every poll; it never waits.
"""

from __future__ import annotations

import contextlib
from multiprocessing.process import BaseProcess

TERMINATE_GRACE_S = 0.5  # SIGTERM first, SIGKILL after this


class Reaper:
    def __init__(self) -> None:
        self._procs: list[tuple[BaseProcess, float]] = []  # (process, kill at)

    def __len__(self) -> int:
        return len(self._procs)

    def retire(self, proc: BaseProcess, now: float) -> None:
        """SIGTERM now; reap() kills it if it is still there after the grace."""
        with contextlib.suppress(Exception):
            proc.terminate()
        self._procs.append((proc, now + TERMINATE_GRACE_S))

    def reap(self, now: float) -> None:
        """Reap the ones gone, SIGKILL the ones past their grace. Never blocks."""
        keep = []
        for proc, kill_at in self._procs:
            if not proc.is_alive():  # is_alive() reaps without waiting
                with contextlib.suppress(ValueError):
                    proc.close()
                continue
            if now >= kill_at:
                proc.kill()
                kill_at = float("inf")
            keep.append((proc, kill_at))
        self._procs = keep

    def kill_all(self, timeout_s: float) -> None:
        """At shutdown: SIGKILL and wait for each (up to timeout_s each)."""
        for proc, _ in self._procs:
            with contextlib.suppress(Exception):
                proc.kill()
                proc.join(timeout_s)
        self._procs.clear()
