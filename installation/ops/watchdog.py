"""When to feed systemd's watchdog, as pure policy on an injected clock.

systemd kills the service (SIGABRT) when keep-alives stop for WatchdogSec, then
Restart=on-failure brings it back. So we only ping while the kiosk is really
working: the frame loop is turning and the generation worker is healthy (or
being recovered within a grace period). A worker that stays hung past the grace
period stops the pings on purpose: a clean restart beats a wall that never changes.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchdogPolicy:
    """interval_s: time between pings (WATCHDOG_USEC/2). frame_stall_s: a frame loop
    silent for longer is stalled. worker_grace_s: how long the worker may stay
    unhealthy (hung, restarting) before we let systemd restart everything."""

    interval_s: float
    frame_stall_s: float = 5.0
    worker_grace_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ("interval_s", "frame_stall_s", "worker_grace_s"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(
                    f"WatchdogPolicy.{name} must be a positive number of seconds, got {value!r}"
                )

    def problem(self, now: float, last_frame_at: float, worker_ok_at: float | None) -> str | None:
        """Why we must not ping now, or None when healthy.

        worker_ok_at: the last moment the worker was known healthy (heartbeat, or a
        successful restart); None when this configuration runs no worker."""
        frame_age = now - last_frame_at
        if frame_age > self.frame_stall_s:
            return f"frame loop stalled for {frame_age:.1f} s (limit {self.frame_stall_s:g} s)"
        if worker_ok_at is not None:
            worker_age = now - worker_ok_at
            if worker_age > self.worker_grace_s:
                return (
                    f"generation worker unhealthy for {worker_age:.1f} s "
                    f"(grace {self.worker_grace_s:g} s)"
                )
        return None

    def should_ping(self, now: float, last_frame_at: float, worker_ok_at: float | None) -> bool:
        """True while both the frame loop and the worker are healthy."""
        return self.problem(now, last_frame_at, worker_ok_at) is None


class _Pings(Protocol):
    def watchdog(self) -> bool: ...


class WatchdogFeeder:
    """Calls notifier.watchdog() at most every interval_s while the policy allows.

    Call tick() once per frame from the main loop; it is cheap and never blocks.
    Logs once when it starts withholding pings and once when they resume."""

    def __init__(self, policy: WatchdogPolicy, notifier: _Pings) -> None:
        self.policy = policy
        self.notifier = notifier
        self.last_ping_at: float | None = None
        self.withheld: str | None = None
        self.pings = 0

    def __repr__(self) -> str:
        state = f"withholding ({self.withheld})" if self.withheld else "healthy"
        return f"<WatchdogFeeder {state} pings={self.pings}>"

    def tick(self, now: float, last_frame_at: float, worker_ok_at: float | None) -> bool:
        """Ping if due and healthy. Returns True when a ping was sent."""
        problem = self.policy.problem(now, last_frame_at, worker_ok_at)
        if problem and not self.withheld:
            log.error("watchdog: withholding keep-alives, systemd will restart us: %s", problem)
        elif self.withheld and not problem:
            log.warning("watchdog: healthy again, keep-alives resume")
        self.withheld = problem
        if problem:
            return False
        if self.last_ping_at is not None and now - self.last_ping_at < self.policy.interval_s:
            return False
        self.last_ping_at = now
        self.pings += 1
        self.notifier.watchdog()
        return True


def enable_faulthandler() -> bool:
    """Dump every thread's stack to stderr (the journal) on SIGABRT/SIGSEGV, so a
    watchdog kill leaves a trace of where we hung. False if stderr has no file."""
    try:
        faulthandler.enable(file=sys.stderr, all_threads=True)
    except (AttributeError, ValueError, OSError) as e:
        log.warning("faulthandler not enabled: %s", e)
        return False
    return True
