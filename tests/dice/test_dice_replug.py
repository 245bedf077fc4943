"""Unplug/replug on real pseudo-terminals: the soak's "connected but deaf" link (RELIABILITY 1).

The kernel hands a freed pty number to the next process that asks for one. A stable
name (the emulator's link, /dev/serial/by-id/...) that still names a freed number
after an unplug, or a link that keeps reading a device its name no longer names,
leaves the show listening to somebody else's device: "connected", heartbeats and
all, while the real dice go unheard.
"""

from __future__ import annotations

import gc
import os
import queue
import random
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import serial

from installation.core.events import ThrowCommitted
from installation.dice import emulator as emulator_module
from installation.dice import ports as ports_module
from installation.dice.emulator import Emulator
from installation.dice.serial import DiceLink
from tests.dice.test_dice_link import committed, make_link
from tests.waiting import next_from, wait_until


@pytest.fixture
def inbox() -> queue.Queue[Any]:
    return queue.Queue()


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    e = Emulator(2, link=tmp_path / "dice0", heartbeat_s=0.1)
    yield e
    e.close()


def firmware(link: DiceLink) -> str:
    return str(link.status()["ports"][0]["firmware"])


def test_unplug_removes_the_stable_link_and_replug_restores_it(emu: Emulator) -> None:
    """Like udev with /dev/serial/by-id/...: no name for a device that is not there."""
    assert os.path.realpath(emu.path) == emu.pty_path
    emu.unplug()
    assert not os.path.lexists(emu.path)
    emu.replug()
    assert os.path.realpath(emu.path) == emu.pty_path


def test_a_pty_that_reuses_the_unplugged_number_is_never_opened(
    emu: Emulator, inbox: queue.Queue[Any]
) -> None:
    """The soak failure itself: another device takes the freed number during the unplug."""
    link = make_link([emu.path], inbox)
    foreign: Emulator | None = None
    try:
        next_from(inbox, connected_to("emulator-1.0"))
        old = emu.pty_path
        emu.unplug()
        wait_until(lambda: not link.status()["connected"])  # the host let go: the number is free
        foreign = Emulator(2, firmware="someone-else", heartbeat_s=0.1)
        if foreign.pty_path != old:  # another process took the number first
            pytest.skip(f"the kernel gave {foreign.pty_path}, not the freed {old}")
        tries = retries(link) + 2  # retried twice while unplugged
        wait_until(lambda: firmware(link) == "someone-else" or retries(link) >= tries)
        assert firmware(link) != "someone-else"
        emu.replug()
        next_from(inbox, connected_to("emulator-1.0"))
        emu.throw([2, 5], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (2, 5)
        assert firmware(link) == "emulator-1.0"
    finally:
        link.stop()
        if foreign is not None:
            foreign.close()


def test_the_link_follows_its_name_to_a_new_device(tmp_path: Path, inbox: queue.Queue[Any]) -> None:
    """A session on a device its name no longer names ends, even while that device talks."""
    old = Emulator(2, firmware="old-device", heartbeat_s=0.1)
    new = Emulator(2, firmware="new-device", heartbeat_s=0.1)
    name = tmp_path / "by-id-dice"
    name.symlink_to(old.pty_path)
    link = make_link([str(name)], inbox, silence_timeout_s=5.0)
    try:
        next_from(inbox, connected_to("old-device"))
        tmp = tmp_path / "by-id-dice.tmp"
        tmp.symlink_to(new.pty_path)
        os.replace(tmp, name)
        next_from(inbox, connected_to("new-device"))
        new.throw([6, 1], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (6, 1)
    finally:
        link.stop()
        old.close()
        new.close()


def test_many_replugs_with_throws_and_silences_lose_nothing(
    emu: Emulator, inbox: queue.Queue[Any]
) -> None:
    """A short soak of the dice path alone: every throw is committed, every silence noticed."""
    rng = random.Random(7)
    link = make_link([emu.path], inbox, silence_timeout_s=0.3)
    try:
        next_from(inbox, connected_to("emulator-1.0"))  # a reconnect needs a first connect
        for _ in range(3):
            before = link.status()["ports"][0]["reconnects"]
            emu.unplug()
            emu.replug()
            wait_until(partial(reconnected, link, before))
            faces = [rng.randint(1, 6), rng.randint(1, 6)]
            emu.throw(faces, rolling_ms=20)
            assert next_from(inbox, committed_with(faces)).throw.faces == tuple(faces)
            before = link.status()["ports"][0]["reconnects"]
            emu.silence(0.5)
            wait_until(partial(reconnected, link, before))
    finally:
        link.stop()


def test_the_emulator_only_reads_its_current_master(monkeypatch: pytest.MonkeyPatch) -> None:
    """unplug() closes fds the serving thread may be about to read; replug() reuses them."""
    emu = Emulator(1, heartbeat_s=0.01)
    wrong: list[int] = []
    real_read = os.read

    def checked_read(fd: int, n: int) -> bytes:
        if threading.current_thread() is emu.serving_thread and fd != emu.master_fd:
            wrong.append(fd)
        return real_read(fd, n)

    stop = threading.Event()

    def host() -> None:  # keeps the master readable, as a host saying ?HELLO would
        while not stop.is_set():
            try:
                fd = os.open(emu.pty_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            except OSError:
                continue
            for _ in range(20):
                try:
                    os.write(fd, b"?HELLO\n")
                except OSError:
                    break
            os.close(fd)

    monkeypatch.setattr(emulator_module.os, "read", checked_read)
    writer = threading.Thread(target=host, daemon=True)
    writer.start()
    try:
        for _ in range(3000):
            emu.unplug()
            emu.replug()
    finally:
        stop.set()
        writer.join(timeout=2)
        monkeypatch.undo()
        emu.close()
    assert wrong == []


def test_a_failed_close_never_closes_a_recycled_fd_later(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyserial keeps its fd number when os.close raises; its finalizer would close it again."""
    ser = serial.Serial(emu.path, 115200, timeout=0.05, exclusive=True)
    number = ser.fd
    real_close = os.close

    def failing_close(fd: int) -> None:
        real_close(fd)
        if fd == number:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(serial.serialposix.os, "close", failing_close)
    ports_module.close_quietly(ser)
    monkeypatch.undo()
    r, w = os.pipe()  # the lowest free numbers: the port's old one among them
    try:
        assert number in (r, w)
        del ser
        gc.collect()
        os.fstat(r)
        os.fstat(w)  # both still open: nobody closed the recycled number
    finally:
        real_close(r)
        real_close(w)


# -- helpers ---------------------------------------------------------------------------------
def connected_to(fw: str) -> Any:
    def match(ev: Any) -> bool:
        info = getattr(ev, "info", None)
        return bool(info and info["connected"] and info["ports"][0]["firmware"] == fw)

    return match


def committed_with(faces: list[int]) -> Any:
    return lambda e: isinstance(e, ThrowCommitted) and e.throw.faces == tuple(faces)


def retries(link: DiceLink) -> int:
    return int(link.status()["ports"][0]["retries"])


def reconnected(link: DiceLink, before: int) -> bool:
    port = link.status()["ports"][0]
    return bool(port["reconnects"] > before and port["connected"])
