"""`installation dice ...`: emulate, monitor and ports, the technician's tools for the dice."""

from __future__ import annotations

import argparse
import json
import queue
import sys
from pathlib import Path
from typing import Any

from installation.dice.protocol import DEFAULT_BAUD, PROTOCOL_VERSION
from installation.errors import DiceError


def register(sub: Any) -> None:
    """Add the `dice` command group to the CLI's subparsers."""
    p = sub.add_parser("dice", help="physical dice: emulate, monitor, list ports")
    p.set_defaults(func=lambda _a: _usage(p))
    dsub = p.add_subparsers(dest="dice_command", metavar="SUBCOMMAND")

    e = dsub.add_parser("emulate", help="a pseudo-terminal that behaves like the dice firmware")
    e.add_argument("--dice", type=int, default=2, help="number of dice (default 2)")
    e.add_argument("--script", type=Path, help="file with one command per line (else stdin)")
    e.add_argument("--link", type=Path, help="keep a symlink here to the current pty")
    e.add_argument("--firmware", default="emulator-1.0", help="firmware id sent in HELLO")
    e.add_argument(
        "--protocol-version", type=int, default=PROTOCOL_VERSION, help="to rehearse a mismatch"
    )
    e.set_defaults(func=cmd_emulate)

    m = dsub.add_parser("monitor", help="live view of dice states, throws and error counters")
    m.add_argument("port", nargs="+", help="path, /dev/serial/by-id/ link or usb:VID:PID[:SN]")
    m.add_argument("--dice", type=int, default=2, help="dice in the show (default 2)")
    m.add_argument("--baud", type=int, default=DEFAULT_BAUD)
    m.add_argument("--settle-ms", type=int, default=300)
    m.add_argument("--duration", type=float, help="stop after this many seconds")
    m.set_defaults(func=cmd_monitor)

    ports = dsub.add_parser("ports", help="serial ports with VID:PID, serial number, by-id link")
    ports.add_argument("--json", action="store_true", help="machine-readable output")
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
    emu = Emulator(args.dice, firmware=args.firmware, version=args.protocol_version, link=args.link)
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
    from installation.dice import monitor
    from installation.dice.serial import DiceLink

    inbox: queue.Queue[Any] = queue.Queue()
    try:
        link = DiceLink(
            args.port, baud=args.baud, dice=args.dice, settle_ms=args.settle_ms, inbox=inbox
        )
    except DiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return monitor.run(link, inbox, sys.stdout, duration=args.duration)


def cmd_ports(args: argparse.Namespace) -> int:
    from installation.dice.ports import candidates

    found = candidates()
    if args.json:
        rows = [{**c.__dict__, "usb_name": c.usb_name} for c in found]
        print(json.dumps(rows, indent=2))
        return 0
    if not found:
        print("no serial ports found (pseudo-terminals are never listed: pass their path)")
    for c in found:
        print(c.device)
        print(f"  name in show: {c.by_id or c.usb_name or c.device}")
        if c.usb_name:
            print(f"  usb: {c.usb_name}  serial: {c.serial or '-'}")
        if c.description and c.description != "n/a":
            print(f"  {c.description}")
    return 0
