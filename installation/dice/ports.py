"""Naming serial ports the way a technician would: a path, a by-id link or usb:VID:PID[:SERIAL].

Any name may end in @BAUD to override the show's speed for that port
(e.g. "usb:2341:0043@57600"). Names are resolved again on every reconnect, so a
device that comes back as /dev/ttyACM1 instead of /dev/ttyACM0 is still found.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from installation.errors import DiceError

BY_ID = Path("/dev/serial/by-id")
_USB = re.compile(r"^usb:([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4})(?::(.+))?$")


@dataclass(frozen=True)
class PortName:
    """A parsed port name. Either `path` or `vid`/`pid` (and maybe `serial`) is set."""

    text: str
    path: str = ""
    vid: int | None = None
    pid: int | None = None
    serial: str | None = None
    baud: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A serial port found on this machine, for `installation dice ports`."""

    device: str
    vid: int | None
    pid: int | None
    serial: str | None
    by_id: str | None
    description: str

    @property
    def usb_name(self) -> str | None:
        """The usb:VID:PID[:SERIAL] name that selects this port, if it is a USB device."""
        if self.vid is None or self.pid is None:
            return None
        name = f"usb:{self.vid:04x}:{self.pid:04x}"
        return f"{name}:{self.serial}" if self.serial else name


def parse(text: str) -> PortName:
    """Parse a port name; DiceError says what was wrong and what is accepted."""
    name, baud = text.strip(), None
    if "@" in name:
        name, _, b = name.rpartition("@")
        if not b.isdigit() or int(b) <= 0:
            raise DiceError(f"port {text!r}: baud after '@' must be a positive number, got {b!r}")
        baud = int(b)
    if name.startswith("usb:"):
        m = _USB.match(name)
        if not m:
            raise DiceError(
                f"port {text!r}: expected usb:VID:PID or usb:VID:PID:SERIAL with 4-digit hex "
                "VID and PID, e.g. usb:2341:0043"
            )
        return PortName(text, vid=int(m[1], 16), pid=int(m[2], 16), serial=m[3], baud=baud)
    if not name.startswith("/") and not name.upper().startswith("COM"):
        raise DiceError(
            f"port {text!r}: expected an absolute path (/dev/ttyACM0), a /dev/serial/by-id/ "
            "link or usb:VID:PID[:SERIAL]"
        )
    return PortName(text, path=name, baud=baud)


def candidates() -> list[Candidate]:
    """Serial ports pyserial can see, with their by-id links. /dev/pts/* never appear."""
    from serial.tools import list_ports

    links = _by_id_links()
    found = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        real = os.path.realpath(p.device)
        found.append(
            Candidate(p.device, p.vid, p.pid, p.serial_number, links.get(real), p.description)
        )
    return found


def resolve(name: PortName, found: list[Candidate] | None = None) -> str:
    """The device path to open now. DiceError names the port and what is there instead."""
    if name.path:
        if not os.path.exists(name.path):
            raise DiceError(f"port {name.text!r}: {name.path} does not exist (unplugged?)")
        return name.path
    found = candidates() if found is None else found
    match = [
        c
        for c in found
        if c.vid == name.vid and c.pid == name.pid and (name.serial in (None, c.serial))
    ]
    if len(match) == 1:
        return match[0].device
    seen = ", ".join(f"{c.device} ({c.usb_name})" for c in found if c.usb_name) or "none"
    if not match:
        raise DiceError(f"port {name.text!r}: no such USB serial device; present: {seen}")
    raise DiceError(
        f"port {name.text!r} matches {len(match)} devices ({', '.join(c.device for c in match)}): "
        "add :SERIAL, or a /dev/serial/by-path/ link if they share a serial number"
    )


def _by_id_links() -> dict[str, str]:
    try:
        entries = list(BY_ID.iterdir())
    except OSError:
        return {}
    return {os.path.realpath(e): str(e) for e in entries}
