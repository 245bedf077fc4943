"""FakeDice: DiceLink's contract without a port, for app and director tests.

Same constructor and methods as DiceLink (start, stop, status, snapshot); the
test drives it with `report`, `throw`, `pick_up`, `disconnect` and `connect`,
and the real ThrowDetector turns that into the same inbox events. Without
threads, time only passes when the test calls `tick()` (after moving its clock).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from installation.core.events import InboxEvent, LinkStatus
from installation.core.throws import DieEvent, DieState, ThrowDetector
from installation.dice.portstate import section


class FakeDice:
    """In-memory dice. `reports` records every DieEvent fed, `events` every inbox event."""

    status_name = "dice"

    def __init__(
        self,
        ports: list[str] | None = None,
        *,
        baud: int = 115200,
        dice: int,
        settle_ms: int = 300,
        throw_timeout_s: float = 8.0,
        silence_timeout_s: float = 3.0,
        inbox: queue.Queue[Any],
        clock: Callable[[], float] = time.monotonic,
        every_die_must_move: bool = True,
        faces: int = 6,
        **_: Any,
    ) -> None:
        self.ports = list(ports or ["fake"])
        self.dice = dice
        self.faces = faces
        self.inbox = inbox
        self.clock = clock
        self.settle_s = settle_ms / 1000
        self.detector = ThrowDetector(
            dice, settle_ms, throw_timeout_s, every_die_must_move=every_die_must_move
        )
        self.connected = False
        self.started = False
        self.reports: list[DieEvent] = []
        self.events: list[InboxEvent] = []

    def __repr__(self) -> str:
        return f"<FakeDice {'connected' if self.connected else 'disconnected'} {self.detector!r}>"

    def start(self) -> None:
        self.started = True
        self.connect()

    def stop(self) -> None:
        self.started = False

    def status(self) -> dict[str, Any]:
        ports: list[dict[str, Any]] = [
            {
                "port": p,
                "device": p,
                "open": self.connected,
                "connected": self.connected,
                "firmware": "fake",
                "dice": self.dice,
                "dropped": {},
                "reconnects": 0,
                "retries": 0,
                "last_error": "",
                "busy": "",
                "device_error": "",
                "device_errors": 0,
                "last_connect": None,
                "last_disconnect": None,
            }
            for p in self.ports
        ]
        info = section(ports, self.dice, self.faces)
        info["dice_reported"] = self.dice if self.connected else 0
        return info

    def snapshot(self) -> dict[str, object]:
        return self.detector.snapshot()

    # -- stimulus --------------------------------------------------------------------
    def report(self, die: int, state: DieState, face: int = 0, at: float | None = None) -> None:
        """One die reports a state, as a DIE line would."""
        e = DieEvent(die, state, face)
        self.reports.append(e)
        self._put(self.detector.feed(e, self.clock() if at is None else at))

    def tick(self, at: float | None = None) -> None:
        self._put(self.detector.tick(self.clock() if at is None else at))

    def throw(self, faces: list[int] | tuple[int, ...]) -> None:
        """A whole throw: all roll, all land, and the settle time passes."""
        now = self.clock()
        for die in range(1, self.dice + 1):
            self.report(die, DieState.ROLLING, at=now)
        for die, face in enumerate(faces, start=1):
            self.report(die, DieState.LANDED, face, at=now)
        self.tick(now + self.settle_s)

    def pick_up(self, die: int) -> None:
        self.report(die, DieState.HANDLING)

    def disconnect(self) -> None:
        if self.connected:
            self.connected = False
            self._put(self.detector.lost(range(1, self.dice + 1), self.clock(), "fake unplugged"))
            self._put([LinkStatus("dice", self.status())])

    def connect(self) -> None:
        if not self.connected:
            self.connected = True
            self._put([LinkStatus("dice", self.status())])

    def _put(self, events: list[InboxEvent]) -> None:
        for ev in events:
            self.events.append(ev)
            self.inbox.put(ev)
