"""Inputs that edges (dice, OSC, keyboard, scheduler) put into the app's inbox.

Edges run in their own threads and only ever `inbox.put(event)`; the main loop
drains the inbox each frame and hands the events to the director.
"""

from __future__ import annotations

from dataclasses import dataclass

from installation.core.dice import Throw


@dataclass(frozen=True)
class DiceRolling:
    """A die reports ROLLING: a throw has started."""

    source: str = "dice"


@dataclass(frozen=True)
class ThrowCancelled:
    reason: str


@dataclass(frozen=True)
class ThrowCommitted:
    throw: Throw


@dataclass(frozen=True)
class RandomThrow:
    """A throw with random faces (space key, /installation/roll, auto-throw)."""

    source: str


@dataclass(frozen=True)
class Blackout:
    """The wall goes dark (OSC /installation/blackout) until Resume."""

    source: str = "osc"


@dataclass(frozen=True)
class Resume:
    """Back from blackout to whatever the director's state shows."""

    source: str = "osc"


@dataclass(frozen=True)
class HoursOverride:
    """Open or close the show now (OSC /installation/open, /installation/close), for
    `seconds` or until the schedule's next change; phase None: back to the schedule."""

    phase: str | None
    seconds: float | None = None
    source: str = "osc"


@dataclass(frozen=True)
class ReloadShow:
    source: str = "osc"


@dataclass(frozen=True)
class ProjectorPower:
    """Projectors forced on (True) or off (False); None: follow the opening hours."""

    on: bool | None
    source: str = "web"


@dataclass(frozen=True)
class ShowReloaded:
    """The watcher read the show folder: a valid Show or a ShowError, and what changed."""

    result: object  # Show | ShowError (kept loose: the core imports no pydantic)
    change: object = None  # ShowChange | None


@dataclass(frozen=True)
class KioskQuit:
    """Escape or the window's close button, where the show allows quitting."""

    reason: str


@dataclass(frozen=True)
class Fault:
    """Something went wrong in an edge; counted per kind, logged with context."""

    kind: str
    message: str


@dataclass(frozen=True)
class LinkStatus:
    """An edge reports its state for the status JSON (e.g. 'dice': {...})."""

    name: str
    info: dict[str, object]


InboxEvent = (
    DiceRolling
    | ThrowCancelled
    | ThrowCommitted
    | RandomThrow
    | Blackout
    | Resume
    | ReloadShow
    | HoursOverride
    | ProjectorPower
    | Fault
    | LinkStatus
)
