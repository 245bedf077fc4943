"""One contract over FakeDice and the real DiceLink (driven through the pty emulator)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from installation.core.dice import Throw
from installation.core.events import DiceRolling, LinkStatus, ThrowCancelled, ThrowCommitted
from installation.core.throws import DieState
from installation.dice.emulator import Emulator
from installation.dice.fake import FakeDice
from installation.dice.serial import DiceLink

STATUS_KEYS = {
    "connected",
    "connected_ports",
    "dice",
    "faces",
    "dice_reported",
    "dropped",
    "device_errors",
    "reconnects",
    "last_connect",
    "last_disconnect",
    "ports",
}
PORT_KEYS = {
    "port",
    "device",
    "connected",
    "firmware",
    "dice",
    "dropped",
    "reconnects",
    "retries",
    "busy",
    "device_errors",
    "last_connect",
    "last_disconnect",
}


class _Base:
    inbox: queue.Queue[Any]

    def next(self, kind: type) -> Any:
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                ev = self.inbox.get(timeout=0.05)
            except queue.Empty:
                self.idle()
                continue
            if isinstance(ev, kind):
                return ev
        pytest.fail(f"no {kind.__name__}")

    def idle(self) -> None:
        pass


class FakeRig(_Base):
    def __init__(self) -> None:
        self.inbox = queue.Queue()
        self.link = FakeDice(dice=2, inbox=self.inbox, clock=lambda: 0.0)

    def throw(self, faces: list[int]) -> None:
        self.link.throw(faces)

    def pick_up(self, die: int) -> None:
        self.link.pick_up(die)

    def roll(self, die: int) -> None:
        self.link.report(die, DieState.ROLLING)


class RealRig(_Base):
    def __init__(self, tmp: Path) -> None:
        self.inbox = queue.Queue()
        self.emu = Emulator(2, link=tmp / "dice0", heartbeat_s=0.1)
        self.link = DiceLink([self.emu.path], dice=2, settle_ms=30, inbox=self.inbox)

    def throw(self, faces: list[int]) -> None:
        self.emu.throw(faces, rolling_ms=10)

    def pick_up(self, die: int) -> None:
        self.emu.pick_up(die)

    def roll(self, die: int) -> None:
        self.emu.set_state(die, DieState.ROLLING)


@pytest.fixture(params=["fake", "real"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    r = FakeRig() if request.param == "fake" else RealRig(tmp_path)
    r.link.start()
    yield r
    r.link.stop()
    if isinstance(r, RealRig):
        r.emu.close()


def test_start_reports_a_connected_link(rig: Any) -> None:
    ev = rig.next(LinkStatus)
    assert ev.name == "dice" and ev.info["connected"] is True
    st = rig.link.status()
    assert set(st) == STATUS_KEYS and st["dice"] == 2
    assert set(st["ports"][0]) >= PORT_KEYS
    assert rig.link.status_name == "dice"  # the app's one status section for the dice


def test_a_throw_gives_rolling_then_the_committed_faces(rig: Any) -> None:
    rig.next(LinkStatus)
    rig.throw([3, 5])
    assert rig.next(DiceRolling) == DiceRolling("dice")
    assert rig.next(ThrowCommitted) == ThrowCommitted(Throw((3, 5), source="dice"))
    assert [d["face"] for d in rig.link.snapshot()["dice"]] == [3, 5]


def test_picking_up_during_a_throw_cancels(rig: Any) -> None:
    rig.next(LinkStatus)
    rig.throw([1, 1])
    rig.next(ThrowCommitted)
    rig.roll(1)
    rig.pick_up(1)
    assert "die 1" in rig.next(ThrowCancelled).reason
