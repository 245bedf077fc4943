"""Technician tools: port names, the emulator's command language, `dice emulate/monitor/ports`."""

from __future__ import annotations

import argparse
import io
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import serial

from installation.dice import monitor
from installation.dice.commands import register
from installation.dice.emulator import Emulator, run_command
from installation.dice.ports import Candidate, parse, resolve
from installation.dice.serial import DiceLink
from installation.errors import DiceError


def cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


# -- port names ------------------------------------------------------------------------
def test_port_names_parse() -> None:
    assert parse("/dev/ttyACM0").path == "/dev/ttyACM0"
    p = parse("usb:2341:0043:ABC123@57600")
    assert (p.vid, p.pid, p.serial, p.baud) == (0x2341, 0x0043, "ABC123", 57600)
    assert parse("/dev/serial/by-id/usb-Arduino_Uno-if00").baud is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("usb:2341", "usb:VID:PID"),
        ("usb:23411:0043", "4-digit hex"),
        ("ttyACM0", "absolute path"),
        ("/dev/ttyACM0@fast", "positive number"),
    ],
)
def test_bad_port_names_say_what_is_accepted(text: str, says: str) -> None:
    with pytest.raises(DiceError, match=says):
        parse(text)


FOUND = [
    Candidate("/dev/ttyACM0", 0x2341, 0x0043, "A1", "/dev/serial/by-id/a", "Uno"),
    Candidate("/dev/ttyACM1", 0x2341, 0x0043, "B2", None, "Uno"),
    Candidate("/dev/ttyS0", None, None, None, None, "serial"),
]


def test_usb_names_resolve_by_vid_pid_and_serial() -> None:
    assert resolve(parse("usb:2341:0043:B2"), FOUND) == "/dev/ttyACM1"
    with pytest.raises(DiceError, match="matches 2 devices"):
        resolve(parse("usb:2341:0043"), FOUND)
    with pytest.raises(DiceError, match=r"present: /dev/ttyACM0 \(usb:2341:0043:A1\)"):
        resolve(parse("usb:1a86:7523"), FOUND)
    assert FOUND[0].usb_name == "usb:2341:0043:A1" and FOUND[2].usb_name is None


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(DiceError, match="does not exist"):
        resolve(parse(str(tmp_path / "dice0")))


# -- emulator command language ---------------------------------------------------------
def test_emulator_commands_reach_the_wire(tmp_path: Path) -> None:
    with Emulator(2, heartbeat_s=60) as emu:
        host = serial.Serial(emu.path, timeout=0.2)
        for line in ["throw 3 5", "land 1 6", "pickup 2", "crooked 1", "error IMU lost it", "# x"]:
            assert run_command(emu, line) is True
        assert run_command(emu, "quit") is False
        data = b""
        while b"$ERR" not in data:
            chunk = host.read(4096)
            assert chunk, f"emulator went quiet; got {data!r}"
            data += chunk
        host.close()
    for frame in [b"2,LANDED,5", b"1,LANDED,6", b"2,HANDLING,0", b"1,CROOKED,0", b"IMU,lost it"]:
        assert frame in data


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("throw 3", "needs 2 faces"),
        ("land 9 1", "die must be 1..2"),
        ("dance", "unknown command"),
        ("throw 1 2 wobble=1", "unknown option"),
        ("land 1 7", "1..6"),
        ("sleep -1", "0..3600"),
    ],
)
def test_bad_emulator_commands_explain(line: str, says: str) -> None:
    with Emulator(2, heartbeat_s=60) as emu, pytest.raises(ValueError, match=says) as e:
        run_command(emu, line)
    assert "commands" in str(e.value)


# -- CLI -------------------------------------------------------------------------------
def test_dice_emulate_cli_end_to_end(tmp_path: Path) -> None:
    """The real command in a child process, driven over stdin, read by a DiceLink."""
    code = (
        "import argparse,sys; from installation.dice.commands import register;"
        "p=argparse.ArgumentParser(); register(p.add_subparsers());"
        "a=p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
    )
    link_path = tmp_path / "dice0"
    child = subprocess.Popen(
        [sys.executable, "-c", code, "dice", "emulate", "--dice", "2", "--link", str(link_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    inbox: queue.Queue[Any] = queue.Queue()
    link = None
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == str(link_path)
        link = DiceLink([str(link_path)], dice=2, settle_ms=20, inbox=inbox)
        link.start()
        _until(lambda: link.status()["ports"][0]["firmware"] == "emulator-1.0")
        child.stdin.write("throw 2 6\n")
        child.stdin.flush()
        _until(lambda: any(_key(e) == "2-6" for e in list(inbox.queue)))
        child.stdin.write("quit\n")
        child.stdin.flush()
        assert child.wait(timeout=10) == 0
    finally:
        if link:
            link.stop()
        child.kill()
        child.wait()


def _key(ev: Any) -> str | None:
    return ev.throw.key if hasattr(ev, "throw") else None


def _until(cond: Any, timeout: float = 8.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.01)


def test_monitor_shows_dice_throws_and_counters(tmp_path: Path) -> None:
    emu = Emulator(2, link=tmp_path / "d", heartbeat_s=0.1)
    inbox: queue.Queue[Any] = queue.Queue()
    link = DiceLink([emu.path], dice=2, settle_ms=20, inbox=inbox, backoff=(0.05, 0.1))
    out = io.StringIO()

    def visitor() -> None:
        _until(lambda: link.status()["ports"][0]["firmware"] != "")
        emu.bad_checksum()
        emu.throw([4, 2], rolling_ms=10)
        _until(lambda: "THROW 4-2" in out.getvalue() and "checksum 1" in out.getvalue())
        stop.set()

    stop = threading.Event()
    t = threading.Thread(target=visitor)
    t.start()
    try:
        monitor.run(link, inbox, out, duration=8, clock=lambda: 0 if not stop.is_set() else 99)
    finally:
        t.join()
        emu.close()
    text = out.getvalue()
    assert "connected firmware emulator-1.0, 2 dice" in text
    assert "die 1: LANDED 4  die 2: LANDED 2" in text


def test_dice_ports_lists_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli(["dice", "ports", "--json"])
    assert args.func(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list)
    assert all({"device", "vid", "pid", "serial", "by_id", "usb_name"} <= set(r) for r in rows)


def test_dice_monitor_rejects_a_bad_port_name(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli(["dice", "monitor", "ttyACM0"])
    assert args.func(args) == 2
    assert "absolute path" in capsys.readouterr().err


def test_dice_emulate_rejects_a_missing_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli(["dice", "emulate", "--script", str(tmp_path / "nope.txt")])
    assert args.func(args) == 2
    assert "does not exist" in capsys.readouterr().err
