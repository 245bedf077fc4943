"""Opening hours as the running show follows them: the schedule, checked once a second
against the wall clock, and an operator's override (open or close now, for a while).

Pure: the wall clock is injected. An override without a duration lasts until the
schedule's next change (so a forgotten "open" ends with the day), never more than
MAX_OVERRIDE_S; it is not persisted, so a restart goes back to the schedule.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from installation.core.schedule import Schedule

log = logging.getLogger("installation.hours")

CHECK_EVERY_S = 1.0
MAX_OVERRIDE_S = 7 * 24 * 3600.0
DEFAULT_OVERRIDE_S = 12 * 3600.0  # without a scheduled change to end it
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """'90s', '30m', '2h', '1d' or plain seconds ('3600') -> seconds, 1 s .. 7 days."""
    m = _DURATION.match(text)
    if m is None:
        raise ValueError(f"duration {text!r}: use e.g. '90s', '30m', '2h', '1d' or seconds")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not 1.0 <= seconds <= MAX_OVERRIDE_S:
        raise ValueError(f"duration {text!r} is out of range 1 s .. 7 days")
    return seconds


@dataclass(frozen=True)
class Override:
    phase: str  # "open" or "closed"
    until: float  # wall-clock seconds
    source: str


class OpeningHours:
    def __init__(self, schedule: Schedule, wall: Callable[[], float], *, now: float) -> None:
        self.schedule = schedule
        self.wall = wall
        self.override: Override | None = None
        self.phase = self.scheduled()
        self._next_check = now + CHECK_EVERY_S

    def __repr__(self) -> str:
        return f"<OpeningHours {self.phase} override={self.override}>"

    def scheduled(self) -> str:
        """What the schedule alone says now."""
        return self.schedule.phase_at(datetime.fromtimestamp(self.wall(), UTC))

    def effective(self) -> str:
        o = self.override
        if o is not None and self.wall() >= o.until:
            log.info("hours override (%s, from %s) ended: back to the schedule", o.phase, o.source)
            self.override = o = None
        return o.phase if o is not None else self.scheduled()

    def force(self, phase: str | None, seconds: float | None, source: str) -> Override | None:
        """Open or close now (`phase`), for `seconds` or until the schedule's next change;
        None: back to the schedule. The next check applies it."""
        if phase is None:
            if self.override is not None:
                log.info("hours override cancelled (from %s): back to the schedule", source)
            self.override = None
        else:
            if phase not in ("open", "closed"):
                raise ValueError(f"override phase {phase!r}: 'open' or 'closed'")
            now = self.wall()
            if seconds is None:
                change = self.schedule.next_change(datetime.fromtimestamp(now, UTC))
                until = change.timestamp() if change is not None else now + DEFAULT_OVERRIDE_S
            else:
                until = now + min(max(seconds, 1.0), MAX_OVERRIDE_S)
            self.override = Override(phase, min(until, now + MAX_OVERRIDE_S), source)
            when = datetime.fromtimestamp(self.override.until, UTC).isoformat(timespec="seconds")
            log.info("hours override (from %s): %s until %s", source, phase, when)
        self._next_check = 0.0
        return self.override

    def check(self, now: float) -> str | None:
        """The effective phase when a check is due (once a second), else None."""
        if now < self._next_check:
            return None
        self._next_check = now + CHECK_EVERY_S
        phase = self.effective()
        if phase != self.phase:
            log.info("opening hours: %s -> %s", self.phase, phase)
            self.phase = phase
        return phase

    def status(self) -> dict[str, Any]:
        """For the status: the phase, what the schedule says, any override, the next change."""
        now = datetime.fromtimestamp(self.wall(), UTC)
        change = self.schedule.next_change(now)
        o = self.override
        return {
            "phase": self.phase,
            "scheduled": self.scheduled(),
            "next_change": change.isoformat(timespec="seconds") if change else None,
            "override": None
            if o is None
            else {
                "phase": o.phase,
                "until": datetime.fromtimestamp(o.until, UTC).isoformat(timespec="seconds"),
                "source": o.source,
            },
        }
