"""Ending worker children: SIGTERM, SIGKILL, waitpid; never a zombie, never a stopped orphan.

A SIGSTOPped child ignores SIGTERM until it is continued, so SIGCONT follows it. A child
that SIGKILL cannot end at once (stuck in a driver call, uninterruptible) is kept in
Dying and reaped as soon as it has ended; the client starts no new child until then (a
GPU child still alive holds its memory), and gives up waiting after KILL_WAIT_S.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from multiprocessing.process import BaseProcess

log = logging.getLogger("installation.worker.client")

TERMINATE_GRACE_S = 0.5  # SIGTERM first, SIGKILL after this
KILL_WAIT_S = 5.0  # how long a new child waits for a killed one to end


def terminate(proc: BaseProcess) -> None:
    """SIGTERM, and SIGCONT so that a stopped child acts on it at once."""
    with contextlib.suppress(Exception):
        proc.terminate()
        if proc.pid is not None:
            os.kill(proc.pid, signal.SIGCONT)


def end(proc: BaseProcess, timeout_s: float) -> bool:
    """End a child and reap it (shutdown: blocks up to TERMINATE_GRACE_S + timeout_s);
    True when it is gone."""
    if proc.is_alive():
        terminate(proc)
        proc.join(TERMINATE_GRACE_S)
    if proc.is_alive():
        with contextlib.suppress(Exception):
            proc.kill()
        proc.join(timeout_s)
    if proc.is_alive():
        log.error("generation worker (pid %s) did not end after SIGKILL", proc.pid)
        return False
    close(proc)
    return True


def close(proc: BaseProcess) -> None:
    """Free what multiprocessing holds for a reaped child (its sentinel descriptor)."""
    with contextlib.suppress(ValueError):
        proc.close()


class Dying:
    """Children sent SIGKILL and not yet reaped, each with the time it was killed."""

    def __init__(self) -> None:
        self._procs: list[tuple[BaseProcess, float, bool]] = []  # (proc, killed at, logged)

    def __len__(self) -> int:
        return len(self._procs)

    def kill(self, proc: BaseProcess, now: float) -> None:
        with contextlib.suppress(Exception):
            proc.kill()
        self._procs.append((proc, now, False))

    def reap(self, now: float) -> bool:
        """Reap the ones that have ended (never waits); True while a new child should wait."""
        waiting, keep = False, []
        for proc, since, logged in self._procs:
            if not proc.is_alive():  # waitpid(WNOHANG): reaps an ended child
                close(proc)
                continue
            if now - since < KILL_WAIT_S:
                waiting = True
            elif not logged:
                logged = True
                log.error(
                    "generation worker (pid %s) still alive %.0f s after SIGKILL; "
                    "starting a new one anyway",
                    proc.pid,
                    now - since,
                )
            keep.append((proc, since, logged))
        self._procs = keep
        return waiting

    def end_all(self, timeout_s: float) -> None:
        """Shutdown: kill and reap every one still here."""
        procs, self._procs = self._procs, []
        for proc, _, _ in procs:
            end(proc, timeout_s)
