"""`installation dice ...` on bad numbers, a port another process holds, and built-in UARTs.

Issue 12.10: `dice monitor` while the kiosk ran printed "Could not exclusively lock
port" every second and exited 0; `dice ports` listed /dev/ttyS0. Issue 13.12:
`dice monitor --dice 0` gave a traceback.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import serial
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from installation.dice import ports as portnames
from installation.dice.emulator import Emulator
from tests.dice.test_dice_link import connected, make_link
from tests.dice.test_dice_tools import cli
from tests.waiting import next_from, wait_until

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["monitor", "/dev/x", "--dice", "0"], "--dice: expected a whole number 1..64, got '0'"),
        (["monitor", "/dev/x", "--dice", "9" * 5000], "--dice: expected a whole number 1..64"),
        (["monitor", "/dev/x", "--faces", "121"], "--faces: expected a whole number 2..120"),
        (["monitor", "/dev/x", "--faces", "d20"], "--faces: expected a whole number 2..120"),
        (["monitor", "/dev/x", "--baud", "0"], "--baud: expected a whole number 50..4000000"),
        (["monitor", "/dev/x", "--settle-ms", "-1"], "--settle-ms: expected a whole number"),
        (["monitor", "/dev/x", "--duration", "nan"], "--duration: expected seconds, more than 0"),
        (["monitor", "/dev/x", "--duration", "-1"], "--duration: expected seconds"),
        (["monitor", "/dev/x", "--duration", "inf"], "--duration: expected seconds"),
        (["emulate", "--dice", "65"], "--dice: expected a whole number 1..64, got '65'"),
        (["emulate", "--faces", "1"], "--faces: expected a whole number 2..120"),
        (["emulate", "--protocol-version", "x"], "--protocol-version: expected a whole number"),
    ],
)
def test_every_number_is_checked_with_a_clear_message(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        cli(["dice", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_good_numbers_pass() -> None:
    args = cli(["dice", "monitor", "/dev/x", "--dice", "3", "--faces", "20", "--duration", "1.5"])
    assert (args.dice, args.faces, args.duration, args.baud) == (3, 20, 1.5, 115200)


# -- a port another process holds --------------------------------------------------------
def test_monitor_names_the_process_holding_the_port_and_fails(tmp_path: Path) -> None:
    """The real command in a child process while this process holds the port, as the
    kiosk would: one clear line naming this pid, exit 1, long before --duration."""
    with Emulator(2, heartbeat_s=0.1) as emu:
        held = serial.Serial(emu.path, exclusive=True)
        argv = ["dice", "monitor", emu.path, "--duration", "30"]  # the old code ran it out
        try:
            got = subprocess.run(
                [sys.executable, "-m", "installation", *argv],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
        finally:
            held.close()
    assert got.returncode == 1, got
    err = got.stderr.strip().splitlines()
    assert len(err) == 1, err
    assert f"{emu.path} is held by another process (pid {os.getpid()}: " in err[0]
    assert "stop it first" in err[0]
    assert "Could not exclusively lock" not in got.stdout + got.stderr


def test_the_link_names_the_holder_and_connects_once_it_lets_go(tmp_path: Path) -> None:
    emu = Emulator(2, link=tmp_path / "d", heartbeat_s=0.1)
    held = serial.Serial(emu.path, exclusive=True)
    inbox: queue.Queue[Any] = queue.Queue()
    link = make_link([emu.path], inbox)
    try:
        wait_until(lambda: bool(link.status()["ports"][0]["busy"]))
        p = link.status()["ports"][0]
        assert f"pid {os.getpid()}" in p["busy"] and "held by another process" in p["last_error"]
        held.close()
        next_from(inbox, connected)
        assert link.status()["ports"][0]["busy"] == ""
    finally:
        link.stop()
        held.close()
        emu.close()


def test_holders_finds_the_lock_then_the_open_file(tmp_path: Path) -> None:
    with Emulator(1, heartbeat_s=60) as emu:
        with serial.Serial(emu.path, exclusive=True):
            assert [pid for pid, _ in portnames.holders(emu.path)] == [os.getpid()]
        # no lock now, but this process (the emulator) still has the pty open
        assert os.getpid() in [pid for pid, _ in portnames.holders(emu.pty_path)]
    assert portnames.holders(str(tmp_path / "nothing")) == []


# -- listing ports -----------------------------------------------------------------------
def fake_port(device: str, vid: int | None = None, pid: int | None = None) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    info.serial_number = "SN1" if vid else None
    info.description = "Arduino Uno" if vid else "ttyS0"
    return info


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PC with two on-board UARTs, a Pi UART, and two USB boards (one on ttyAMA1)."""
    found = [
        fake_port("/dev/ttyS0"),
        fake_port("/dev/ttyS1"),
        fake_port("/dev/ttyAMA0"),
        fake_port("/dev/ttyACM0", 0x2341, 0x0043),
        fake_port("/dev/ttyAMA1", 0x0403, 0x6001),
    ]
    monkeypatch.setattr(list_ports, "comports", lambda *a, **k: found)
    monkeypatch.setattr(portnames, "BY_ID", tmp_path / "by-id")


def test_ports_leaves_built_in_uarts_out_unless_asked(
    machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli(["dice", "ports"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "/dev/ttyACM0" in out and "usb:2341:0043:SN1" in out
    assert "/dev/ttyAMA1" in out  # a USB adapter is listed whatever its name
    listed = [ln for ln in out.splitlines() if ln.startswith("/dev/")]
    assert listed == ["/dev/ttyACM0", "/dev/ttyAMA1"]
    assert "3 built-in serial port(s) not listed: /dev/ttyAMA0, /dev/ttyS0, /dev/ttyS1" in out
    args = cli(["dice", "ports", "--all"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert [ln for ln in out.splitlines() if ln.startswith("/dev/")] == [
        "/dev/ttyACM0",
        "/dev/ttyAMA0",
        "/dev/ttyAMA1",
        "/dev/ttyS0",
        "/dev/ttyS1",
    ]
    assert "not listed" not in out


def test_ports_json_is_filtered_too(machine: None, capsys: pytest.CaptureFixture[str]) -> None:
    args = cli(["dice", "ports", "--json"])
    assert args.func(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["device"], r["builtin"]) for r in rows] == [
        ("/dev/ttyACM0", False),
        ("/dev/ttyAMA1", False),
    ]
    args = cli(["dice", "ports", "--json", "--all"])
    assert args.func(args) == 0
    assert sum(r["builtin"] for r in json.loads(capsys.readouterr().out)) == 3
