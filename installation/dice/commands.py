"""`installation dice ...`: emulate, monitor and ports, the technician's tools for the dice."""

from __future__ import annotations

import argparse
import json
import math
import queue
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.dice.protocol import (
    DEFAULT_BAUD,
    FACES,
    MAX_BAUD,
    MAX_DICE,
    MAX_FACES,
    MIN_BAUD,
    PROTOCOL_VERSION,
)
from installation.errors import DiceError

_WHOLE = re.compile(r"[0-9]{1,12}")


def whole(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a plain whole number lo..hi, or an error saying so."""

    def parse(text: str) -> int:
        t = text.strip()
        if not _WHOLE.fullmatch(t) or not lo <= int(t) <= hi:
            raise argparse.ArgumentTypeError(f"expected a whole number {lo}..{hi}, got {text!r}")
        return int(t)

    return parse


def seconds(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type: seconds, more than lo and at most hi."""

    def parse(text: str) -> float:
        try:
            v = float(text) if len(text) <= 32 else math.nan
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and lo < v <= hi):
            raise argparse.ArgumentTypeError(
                f"expected seconds, more than {lo:g} and at most {hi:g}, got {text!r}"
            )
        return v

    return parse


def register(sub: Any) -> None:
    """Add the `dice` command group to the CLI's subparsers."""
    p = sub.add_parser("dice", help="physical dice: emulate, monitor, list ports")
    p.set_defaults(func=lambda _a: _usage(p))
    dsub = p.add_subparsers(dest="dice_command", metavar="SUBCOMMAND")

    e = dsub.add_parser("emulate", help="a pseudo-terminal that behaves like the dice firmware")
    e.add_argument("--dice", type=whole(1, MAX_DICE), default=2, help="number of dice (default 2)")
    e.add_argument(
        "--faces", type=whole(2, MAX_FACES), default=FACES, help=f"faces per die (default {FACES})"
    )
    e.add_argument("--script", type=Path, help="file with one command per line (else stdin)")
    e.add_argument("--link", type=Path, help="keep a symlink here to the current pty")
    e.add_argument("--firmware", default="emulator-1.0", help="firmware id sent in HELLO")
    e.add_argument(
        "--protocol-version",
        type=whole(0, 9999),
        default=PROTOCOL_VERSION,
        help="to rehearse a mismatch",
    )
    e.set_defaults(func=cmd_emulate)

    m = dsub.add_parser(
        "monitor",
        help="live view of dice states, throws and error counters",
        epilog="Exits 1 at once if another process (a running kiosk) holds a port.",
    )
    m.add_argument("port", nargs="+", help="path, /dev/serial/by-id/ link or usb:VID:PID[:SN]")
    m.add_argument(
        "--dice", type=whole(1, MAX_DICE), default=2, help="dice in the show (default 2)"
    )
    m.add_argument(
        "--faces", type=whole(2, MAX_FACES), default=FACES, help=f"faces per die (default {FACES})"
    )
    m.add_argument("--baud", type=whole(MIN_BAUD, MAX_BAUD), default=DEFAULT_BAUD)
    m.add_argument("--settle-ms", type=whole(0, 10000), default=300)
    m.add_argument("--duration", type=seconds(0, 7 * 86400), help="stop after this many seconds")
    m.set_defaults(func=cmd_monitor)

    ports = dsub.add_parser("ports", help="serial ports with VID:PID, serial number, by-id link")
    ports.add_argument("--json", action="store_true", help="machine-readable output")
    ports.add_argument(
        "--all", action="store_true", help="also built-in UARTs (ttyS*, ttyAMA* ...) with no USB id"
    )
    ports.set_defaults(func=cmd_ports)


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def cmd_emulate(args: argparse.Namespace) -> int:
    """Run the emulator, print its path, then play the script or typed commands."""
    from installation.dice.emulator import COMMANDS, Emulator, run_command

    if args.script is not None and not args.script.is_file():
        print(f"error: script {args.script} does not exist", file=sys.stderr)
        return 2
    if args.link is not None:
        from installation.errors import OutputPathError
        from installation.storage.outputs import checked_link

        try:
            checked_link(args.link)
        except OutputPathError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    emu = Emulator(
        args.dice,
        faces=args.faces,
        firmware=args.firmware,
        version=args.protocol_version,
        link=args.link,
    )
    print(emu.path, flush=True)
    interactive = args.script is None and sys.stdin.isatty()
    if interactive:
        print(COMMANDS, file=sys.stderr)
    lines = args.script.read_text().splitlines() if args.script else sys.stdin
    try:
        for line in lines:
            try:
                if not run_command(emu, line):
                    break
            except ValueError as e:
                print(f"error: {e}", file=sys.stderr)
                if not interactive:
                    return 2
            if not args.link and line.strip().startswith("replug"):
                print(emu.path, flush=True)  # a new pty: say where it is
        else:
            if args.script:  # keep the device up until interrupted, like real hardware
                _wait_forever()
    finally:
        emu.close()
    return 0


def _wait_forever() -> None:
    import threading

    threading.Event().wait()


def cmd_monitor(args: argparse.Namespace) -> int:
    import logging

    from installation.dice import monitor
    from installation.dice.serial import DiceLink

    inbox: queue.Queue[Any] = queue.Queue()
    try:
        link = DiceLink(
            args.port,
            baud=args.baud,
            dice=args.dice,
            faces=args.faces,
            settle_ms=args.settle_ms,
            inbox=inbox,
        )
    except DiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # The screen shows everything the link would log; log lines would only tear it.
    dice_log = logging.getLogger("installation.dice")
    level, dice_log.level = dice_log.level, logging.CRITICAL
    try:
        return monitor.run(link, inbox, sys.stdout, duration=args.duration, err=sys.stderr)
    finally:
        dice_log.setLevel(level)


def cmd_ports(args: argparse.Namespace) -> int:
    from installation.dice.ports import candidates

    every = candidates()
    found = [c for c in every if args.all or not c.builtin]
    hidden = len(every) - len(found)
    if args.json:
        rows = [{**c.__dict__, "usb_name": c.usb_name, "builtin": c.builtin} for c in found]
        print(json.dumps(rows, indent=2))
        return 0
    if not found:
        usb = "USB " if hidden else ""
        print(f"no {usb}serial ports found (pseudo-terminals are never listed: pass their path)")
    for c in found:
        print(c.device)
        print(f"  name in show: {c.by_id or c.usb_name or c.device}")
        if c.usb_name:
            print(f"  usb: {c.usb_name}  serial: {c.serial or '-'}")
        if c.description and c.description != "n/a":
            print(f"  {c.description}")
    if hidden:
        names = ", ".join(c.device for c in every if c.builtin)
        print(f"({hidden} built-in serial port(s) not listed: {names}; --all lists them)")
    return 0
