"""Naming serial ports the way a technician would: a path, a by-id link or usb:VID:PID[:SERIAL].

Any name may end in @BAUD to override the show's speed for that port
(e.g. "usb:2341:0043@57600"). Names are resolved again on every reconnect, so a
device that comes back as /dev/ttyACM1 instead of /dev/ttyACM0 is still found.

Also what is at a path now: which process holds a port (holders), which device
an open port is (device_number, renamed), and closing one safely (close_quietly).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from installation.errors import DiceError

log = logging.getLogger("installation.dice")

BY_ID = Path("/dev/serial/by-id")
PROC = Path("/proc")
# On-board UARTs (a PC's COM ports, a Raspberry Pi's GPIO UART ...): listed by the
# kernel whether or not anything is wired to them, so `dice ports` hides them
# unless asked (--all). A USB adapter always has a VID:PID and is always listed.
_BUILTIN = re.compile(r"^tty(S|AMA|THS|SAC|mxc|MSM|O)\d+$")
MAX_HOLDER_SCAN = 4096  # processes looked at when naming who holds a port
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
    def builtin(self) -> bool:
        """An on-board UART (ttyS*, ttyAMA* ...) with no USB VID:PID: rarely the dice."""
        return self.vid is None and bool(_BUILTIN.match(os.path.basename(self.device)))

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


def holders(path: str) -> list[tuple[int, str]]:
    """Best effort: (pid, command line) of the processes holding `path`.

    First the flock on the device in /proc/locks (what `exclusive=True` takes; every
    user may read it), else every process with the path open in /proc/*/fd (only
    those this user may look into; root sees all; at most MAX_HOLDER_SCAN).
    """
    pids = _lock_holders(path) or _open_by(path)
    return [(pid, _command(PROC / str(pid))) for pid in pids[:3]]


def _lock_holders(path: str) -> list[int]:
    try:
        st = os.stat(path)
        lines = (PROC / "locks").read_text().splitlines()[:MAX_HOLDER_SCAN]
    except OSError:
        return []
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    found = []
    for line in lines:
        f = line.split()
        if len(f) >= 6 and f[1] == "FLOCK" and f[5] == inode and f[4].isdigit():
            found.append(int(f[4]))
    return found


def _open_by(path: str) -> list[int]:
    try:
        target = os.path.realpath(path)
        with os.scandir(PROC) as entries:
            pids = list(islice((e.name for e in entries if e.name.isdigit()), MAX_HOLDER_SCAN))
    except OSError:
        return []
    found = []
    for pid in pids:
        try:
            with os.scandir(PROC / pid / "fd") as fds:
                if any(_readlink(e.path) == target for e in fds):
                    found.append(int(pid))
        except OSError:
            continue  # gone, or not ours to look at
    return found


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:  # the fd closed while we looked
        return ""


def describe_holders(path: str) -> str:
    """'pid 1234: python -m installation run show', or why no pid can be named."""
    found = holders(path)
    if not found:
        return f"its pid is not visible to this user; as root: sudo fuser -v {path}"
    return "; ".join(f"pid {pid}: {cmd}" for pid, cmd in found)


def _command(proc: Path) -> str:
    try:
        raw = (proc / "cmdline").read_bytes()[:400]
    except OSError:
        return "?"
    text = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    return text if len(text) <= 120 else text[:117] + "..."


def device_number(ser: Any) -> int | None:
    """The device number of the open port, None if it cannot be told."""
    try:
        return os.fstat(ser.fileno()).st_rdev
    except (OSError, AttributeError, TypeError, ValueError):
        return None


def renamed(path: str, opened: int | None) -> bool:
    """True when `path` now names a device other than the one open (a stale session).

    A by-id link follows its device to a new node after a replug; a session opened
    through a stale link may sit on a freed node the kernel gave to another device.
    Either way the open fd is no longer the device the show names. (The same node
    number reused by another device cannot be told apart: configure by-id names.) A
    missing path is not judged: a real unplug shows up as a read error.
    """
    if opened is None:
        return False
    try:
        return os.stat(path).st_rdev != opened
    except OSError:
        return False


def close_quietly(ser: Any) -> None:
    """Close a port; if pyserial's close fails half-way, make it forget its fd numbers.

    os.close frees the number even when it raises, but pyserial then keeps it, and its
    finalizer (io.IOBase.__del__) closes it again later, when the number may be the next
    session's port or any other file. Its abort pipes may leak: better than that.
    """
    try:
        ser.close()
    except Exception as e:
        log.warning("closing %s failed (%s); its fds are dropped, not closed again", ser, e)
        with contextlib.suppress(Exception):
            for name in (
                "fd",
                *(f"pipe_abort_{x}" for x in ("read_r", "read_w", "write_r", "write_w")),
            ):
                setattr(ser, name, None)
            ser.is_open = False
