"""DiceLink over real pseudo-terminals driven by the emulator: throws, faults, unplugging."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from installation.core.dice import Throw
from installation.core.events import DiceRolling, LinkStatus, ThrowCancelled, ThrowCommitted
from installation.core.throws import DieState
from installation.dice.emulator import Emulator
from installation.dice.serial import DiceLink
from tests.waiting import next_from, wait_until

FAST = {"settle_ms": 50, "backoff": (0.05, 0.2), "silence_timeout_s": 1.0}


def connected(ev: Any) -> bool:
    return isinstance(ev, LinkStatus) and ev.info["connected"] is True


def committed(ev: Any) -> bool:
    return isinstance(ev, ThrowCommitted)


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    e = Emulator(2, link=tmp_path / "dice0", heartbeat_s=0.1)
    yield e
    e.close()


@pytest.fixture
def inbox() -> queue.Queue[Any]:
    return queue.Queue()


def make_link(ports: list[str], inbox: queue.Queue[Any], dice: int = 2, **kw: Any) -> DiceLink:
    link = DiceLink(ports, dice=dice, inbox=inbox, **{**FAST, **kw})
    link.start()
    return link


def test_a_throw_arrives_through_a_real_pty(emu: Emulator, inbox: queue.Queue[Any]) -> None:
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        wait_until(lambda: link.status()["ports"][0]["firmware"] == "emulator-1.0")
        emu.throw([3, 5], rolling_ms=20)
        assert next_from(inbox, lambda e: isinstance(e, DiceRolling)) == DiceRolling("dice")
        assert next_from(inbox, committed) == ThrowCommitted(Throw((3, 5), source="dice"))
        st = link.status()
        assert st["connected"] and st["dice_reported"] == 2
        assert st["ports"][0]["dice"] == 2 and st["ports"][0]["last_error"] == ""
        assert link.snapshot()["dice"][0] == {"die": 1, "state": "LANDED", "face": 3}
        assert b"?HELLO" in emu.received and b"?STATE" in emu.received
    finally:
        link.stop()
    assert link.running_threads == []


def test_unplug_and_replug_then_throws_still_arrive(emu: Emulator, inbox: queue.Queue[Any]) -> None:
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        emu.throw([1, 2], rolling_ms=20)
        next_from(inbox, committed)
        emu.unplug()
        lost = next_from(inbox, lambda e: isinstance(e, LinkStatus) and not e.info["connected"])
        assert lost.info["ports"][0]["last_error"]  # names what happened
        emu.replug()
        next_from(inbox, connected)
        wait_until(lambda: link.status()["ports"][0]["dice"] == 2)
        emu.throw([6, 4], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (6, 4)
        assert link.status()["ports"][0]["reconnects"] >= 1
    finally:
        link.stop()


def test_unplug_mid_throw_cancels_it(emu: Emulator, inbox: queue.Queue[Any]) -> None:
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        emu.set_state(1, DieState.ROLLING)
        next_from(inbox, lambda e: isinstance(e, DiceRolling))
        emu.unplug()
        ev = next_from(inbox, lambda e: isinstance(e, ThrowCancelled))
        assert ev.reason.startswith("lost")
    finally:
        link.stop()


def test_protocol_version_mismatch_is_named_and_retried(
    tmp_path: Path, inbox: queue.Queue[Any]
) -> None:
    emu = Emulator(2, version=2, firmware="future-fw", link=tmp_path / "d", heartbeat_s=0.1)
    link = make_link([emu.path], inbox)
    try:
        wait_until(lambda: "version 2" in link.status()["ports"][0]["last_error"])
        err = link.status()["ports"][0]["last_error"]
        assert "version 1" in err and "future-fw" in err
        wait_until(lambda: link.status()["ports"][0]["retries"] >= 2)  # keeps retrying
        assert not link.status()["connected"]
    finally:
        link.stop()
        emu.close()


def test_noise_and_bad_checksums_are_counted_and_throws_survive(
    emu: Emulator, inbox: queue.Queue[Any]
) -> None:
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        emu.inject_noise()
        emu.bad_checksum()
        emu.error("IMU", "no MPU-6050 on I2C")
        emu.throw([4, 1], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (4, 1)
        port = link.status()["ports"][0]
        assert port["dropped"]["checksum"] == 1
        assert port["dropped"]["too_long"] == 1
        assert port["dropped"].get("non_ascii", 0) + port["dropped"].get("framing", 0) >= 1
        assert port["device_error"] == "IMU: no MPU-6050 on I2C"
    finally:
        link.stop()


def test_silence_reopens_the_port(emu: Emulator, inbox: queue.Queue[Any]) -> None:
    link = make_link([emu.path], inbox, silence_timeout_s=0.3)
    try:
        next_from(inbox, connected)
        emu.silence(1.0)
        wait_until(lambda: "silent" in link.status()["ports"][0]["last_error"])
        next_from(inbox, connected)  # it comes back when the device talks again
        emu.throw([5, 5], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (5, 5)
    finally:
        link.stop()


def test_picking_a_die_up_cancels_the_throw(emu: Emulator, inbox: queue.Queue[Any]) -> None:
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        emu.set_state(1, DieState.ROLLING)
        emu.pick_up(2)
        ev = next_from(inbox, lambda e: isinstance(e, ThrowCancelled))
        assert "die 2" in ev.reason
    finally:
        link.stop()


def test_dice_beyond_the_show_count_are_dropped(tmp_path: Path, inbox: queue.Queue[Any]) -> None:
    emu = Emulator(3, link=tmp_path / "d", heartbeat_s=0.1)
    link = make_link([emu.path], inbox, dice=2)
    try:
        next_from(inbox, connected)
        wait_until(lambda: link.status()["ports"][0]["dice"] == 3)
        emu.throw([1, 2, 3], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (1, 2)
        wait_until(lambda: link.status()["ports"][0]["dropped"].get("die_index", 0) >= 2)
    finally:
        link.stop()
        emu.close()


def test_dice_numbers_run_on_across_ports(tmp_path: Path, inbox: queue.Queue[Any]) -> None:
    a = Emulator(1, link=tmp_path / "a", heartbeat_s=0.1, firmware="a")
    b = Emulator(1, link=tmp_path / "b", heartbeat_s=0.1, firmware="b")
    link = make_link([a.path, b.path], inbox)
    try:
        wait_until(lambda: link.status()["connected"])
        wait_until(lambda: link.status()["dice_reported"] == 2)
        b.set_state(1, DieState.ROLLING)
        a.set_state(1, DieState.ROLLING)
        b.set_state(1, DieState.LANDED, 6)
        a.set_state(1, DieState.LANDED, 2)
        assert next_from(inbox, committed).throw.faces == (2, 6)
    finally:
        link.stop()
        a.close()
        b.close()


def test_the_port_is_held_exclusively(emu: Emulator, inbox: queue.Queue[Any]) -> None:
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        with pytest.raises(serial.SerialException):
            serial.Serial(emu.path, exclusive=True)
    finally:
        link.stop()


def test_a_missing_port_is_reported_and_retried(tmp_path: Path, inbox: queue.Queue[Any]) -> None:
    link = make_link([str(tmp_path / "nothing")], inbox)
    try:
        wait_until(lambda: link.status()["ports"][0]["retries"] >= 2)
        assert "does not exist" in link.status()["ports"][0]["last_error"]
        assert not link.status()["connected"]
    finally:
        link.stop()
