"""What DiceLink knows about each port, and the one status section ("dice") built from it.

Every counter here is live: DiceLink.status() reads them under the link's lock on
every call (the app asks once a second), never a copy taken at connect time.
"""

from __future__ import annotations

import errno
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from installation.dice import ports as portnames
from installation.dice.ratelog import RateLog

log = logging.getLogger("installation.dice")

LOG_EVERY_S = 60.0  # a repeated drop reason, device error or HELLO is logged at most this often
LOG_NAMES = 8  # ERR codes (and drop reasons) told apart per port in the log; more are pooled


@dataclass
class PortState:
    """Live state of one configured port. Fields are written by the port's reader thread;
    the ones status() reads are written under the link's lock."""

    name: portnames.PortName
    index: int
    device: str = ""
    open: bool = False
    connected: bool = False  # a good HELLO heard this session
    ever_connected: bool = False
    firmware: str = ""
    dice: int | None = None  # from HELLO; kept across reconnects for numbering
    reconnects: int = 0  # times the device came back after being lost
    retries: int = 0  # opens that failed and sessions that ended before a good HELLO
    last_error: str = ""
    busy: str = ""  # set while another process holds the port locked
    device_error: str = ""
    device_errors: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    last_connect: dict[str, Any] | None = None  # {"at": wall time, "device": path}
    last_disconnect: dict[str, Any] | None = None  # {"at": wall time, "reason": text}
    lost_at: float | None = None  # monotonic time of the last disconnect, None once back
    last_valid: float = 0.0
    logged_failure: str = ""  # the last open failure written to the log
    holders_at: float | None = None  # when /proc was last searched for the holder
    ratelog: RateLog = field(init=False)

    def __post_init__(self) -> None:
        self.ratelog = RateLog(log, self.name.text, every_s=LOG_EVERY_S, max_names=LOG_NAMES)

    def status(self) -> dict[str, Any]:
        """This port's part of the status section (call with the link's lock held)."""
        return {
            "port": self.name.text,
            "device": self.device,
            "open": self.open,
            "connected": self.connected,
            "firmware": self.firmware,
            "dice": self.dice,
            "dropped": dict(self.dropped),
            "reconnects": self.reconnects,
            "retries": self.retries,
            "last_error": self.last_error,
            "busy": self.busy,
            "device_error": self.device_error,
            "device_errors": self.device_errors,
            "last_connect": self.last_connect,
            "last_disconnect": self.last_disconnect,
        }


def section(ports: list[dict[str, Any]], dice: int, faces: int) -> dict[str, Any]:
    """The whole "dice" status section from every port's status()."""
    dropped: Counter[str] = Counter()
    for p in ports:
        dropped.update(p["dropped"])
    return {
        "connected": all(p["connected"] for p in ports),
        "connected_ports": [p["port"] for p in ports if p["connected"]],
        "dice": dice,
        "faces": faces,
        "dice_reported": sum(p["dice"] or 0 for p in ports),
        "dropped": dict(dropped),
        "device_errors": sum(p["device_errors"] for p in ports),
        "reconnects": sum(p["reconnects"] for p in ports),
        "last_connect": _latest(ports, "last_connect"),
        "last_disconnect": _latest(ports, "last_disconnect"),
        "ports": ports,
    }


def _latest(ports: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    seen = [{"port": p["port"], **p[key]} for p in ports if p[key]]
    return max(seen, key=lambda e: e["at"]) if seen else None


def is_busy(e: BaseException) -> bool:
    """True when an open failed because another process holds the port's lock."""
    code = getattr(e, "errno", None)
    return code in (errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in str(e)
