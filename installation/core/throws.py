"""From die readings to throws: pure, clock-injected throw detection.

Rules (also in hardware/PROTOCOL.md):

- A throw starts when any die reports ROLLING (-> DiceRolling).
- It is committed when every die has reported LANDED since the start and no die
  has changed state or face for `settle_ms` (-> ThrowCommitted).
- HANDLING during a throw cancels it: a visitor picked a die up (-> ThrowCancelled).
- CROOKED keeps the throw open (the die leans on something; it may still fall).
- A throw not committed `timeout_s` after its start is dropped (-> ThrowCancelled).
- A LANDED with no ROLLING before it (boot, a nudge) updates the state only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from installation.core.dice import Throw
from installation.core.events import DiceRolling, InboxEvent, ThrowCancelled, ThrowCommitted

# Float clocks: 0.7 - 0.4 < 0.3. A nanosecond of slack keeps "exactly settle_ms" a commit.
_EPS = 1e-9


class DieState(enum.Enum):
    ROLLING = "ROLLING"
    HANDLING = "HANDLING"
    CROOKED = "CROOKED"
    LANDED = "LANDED"


@dataclass(frozen=True)
class DieEvent:
    """One die's reported state. `die` is 1-based; `face` is 1.. when LANDED, else 0."""

    die: int
    state: DieState
    face: int = 0
    t_ms: int = 0  # device time, informational only (it wraps and differs per device)


@dataclass
class _Open:
    started: float
    last_change: float
    landed: set[int]


class ThrowDetector:
    """Turns DieEvents plus the time into inbox events. Not thread-safe: guard it."""

    def __init__(
        self,
        dice: int,
        settle_ms: int = 300,
        timeout_s: float = 8.0,
        *,
        every_die_must_move: bool = True,
    ) -> None:
        """`every_die_must_move=False`: a die left lying on the table counts with the face
        it shows, so a visitor may throw only some of the dice (each die must still be
        LANDED, with a known face, and the settle window must pass)."""
        if dice < 1:
            raise ValueError(f"dice must be 1 or more, got {dice}")
        if settle_ms < 0:
            raise ValueError(f"settle_ms must be 0 or more, got {settle_ms}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be above 0, got {timeout_s}")
        self.dice = dice
        self.settle_s = settle_ms / 1000.0
        self.timeout_s = timeout_s
        self.every_die_must_move = every_die_must_move
        self.states: list[DieState | None] = [None] * dice
        self.faces: list[int] = [0] * dice
        self._open: _Open | None = None

    def __repr__(self) -> str:
        dice = " ".join(
            f"{i}:{s.value if s else '?'}{'/' + str(f) if f else ''}"
            for i, (s, f) in enumerate(zip(self.states, self.faces, strict=True), start=1)
        )
        throw = "open" if self._open else "idle"
        return f"<ThrowDetector {throw} {dice}>"

    @property
    def in_throw(self) -> bool:
        return self._open is not None

    def snapshot(self) -> dict[str, object]:
        """Per-die state and face plus whether a throw is open: for status and monitors."""
        return {
            "dice": [
                {"die": i, "state": s.value if s else None, "face": f}
                for i, (s, f) in enumerate(zip(self.states, self.faces, strict=True), start=1)
            ],
            "throw_open": self._open is not None,
            "landed_since_start": sorted(self._open.landed) if self._open else [],
        }

    def feed(self, event: DieEvent, now: float) -> list[InboxEvent]:
        """Take one reading. Readings for dice outside 1..dice are ignored."""
        if not 1 <= event.die <= self.dice:
            return []
        i = event.die - 1
        face = event.face if event.state is DieState.LANDED else 0
        changed = (self.states[i], self.faces[i]) != (event.state, face)
        self.states[i], self.faces[i] = event.state, face
        out: list[InboxEvent] = []
        if event.state is DieState.ROLLING and self._open is None:
            self._open = _Open(started=now, last_change=now, landed=set())
            out.append(DiceRolling("dice"))
        op = self._open
        if op is None:
            return out
        if changed:
            op.last_change = now
        if event.state is DieState.HANDLING:
            self._open = None
            return [*out, ThrowCancelled(f"handling: die {event.die} was picked up")]
        if event.state is DieState.LANDED:
            op.landed.add(event.die)
        return out + self.tick(now)

    def tick(self, now: float) -> list[InboxEvent]:
        """Let time pass: commit a settled throw or drop one that timed out."""
        op = self._open
        if op is None:
            return []
        if self._all_landed(op) and now - op.last_change >= self.settle_s - _EPS:
            self._open = None
            return [ThrowCommitted(Throw(tuple(self.faces), source="dice"))]
        if now - op.started >= self.timeout_s - _EPS:
            self._open = None
            return [ThrowCancelled(f"timeout: {self._why_open(op)} after {self.timeout_s:g} s")]
        return []

    def next_deadline(self) -> float | None:
        """When tick() may next have something to say (settle or timeout), or None."""
        op = self._open
        if op is None:
            return None
        timeout_at = op.started + self.timeout_s
        if self._all_landed(op):
            return min(op.last_change + self.settle_s, timeout_at)
        return timeout_at

    def lost(self, dice: range | list[int], now: float, reason: str) -> list[InboxEvent]:
        """Some dice went away (port unplugged): forget them and drop an open throw."""
        for d in dice:
            if 1 <= d <= self.dice:
                self.states[d - 1], self.faces[d - 1] = None, 0
        if self._open is None:
            return []
        self._open = None
        return [ThrowCancelled(f"lost: {reason}")]

    def _all_landed(self, op: _Open) -> bool:
        if self.every_die_must_move and len(op.landed) != self.dice:
            return False
        return all(s is DieState.LANDED for s in self.states) and all(self.faces)

    def _why_open(self, op: _Open) -> str:
        waiting = [
            f"die {i} {s.value if s else 'silent'}"
            for i, s in enumerate(self.states, start=1)
            if s is not DieState.LANDED or i not in op.landed
        ]
        return "not settled (" + ", ".join(waiting) + ")" if waiting else "never settled"
