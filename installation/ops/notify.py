"""sd_notify over $NOTIFY_SOCKET: readiness, status line, start-up extension, watchdog.

The protocol is one datagram per message on an AF_UNIX socket (a leading '@' in the
address means the abstract namespace). We speak it with the stdlib rather than a
package so that errors are counted and visible instead of swallowed, and so that
nothing here can ever raise into the kiosk: outside systemd every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Talks to the service manager. Never raises; counts failures in `errors`."""

    def __init__(self, address: str | None = None) -> None:
        raw = os.environ.get("NOTIFY_SOCKET", "") if address is None else address
        self.address = raw or None
        self.errors = 0
        self.sent = 0
        self.last_error = ""
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Notifier {self.address or 'off'} sent={self.sent} errors={self.errors}>"

    @property
    def enabled(self) -> bool:
        return self.address is not None

    # -- messages -------------------------------------------------------------------
    def ready(self, status: str | None = None) -> bool:
        """Start-up finished: systemd marks the unit active and starts the watchdog."""
        fields = ["READY=1"] + ([_status_field(status)] if status is not None else [])
        return self.send(*fields)

    def status(self, text: str) -> bool:
        """One human line shown by `systemctl status`."""
        return self.send(_status_field(text))

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for `seconds` more start-up (or stop) time, e.g. while a model loads."""
        usec = max(0, int(seconds * 1_000_000))
        return self.send(f"EXTEND_TIMEOUT_USEC={usec}")

    def watchdog(self) -> bool:
        """Keep-alive: only call while the kiosk is healthy (see ops.watchdog)."""
        return self.send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        fields = ["STOPPING=1"] + ([_status_field(status)] if status is not None else [])
        return self.send(*fields)

    # -- transport ------------------------------------------------------------------
    def send(self, *fields: str) -> bool:
        """Send one datagram of newline-separated fields. False (and counted) on failure."""
        if self.address is None:
            return False
        data = "\n".join(fields).encode("utf-8", "replace")
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    self._sock.setblocking(False)  # never stall the display loop
                self._sock.sendto(data, target)
            except OSError as e:
                self._fail(e)
                return False
        self.sent += 1
        return True

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def _fail(self, e: OSError) -> None:
        self.errors += 1
        self.last_error = f"{type(e).__name__}: {e}"
        if self.errors == 1 or self.errors % 100 == 0:
            log.warning("sd_notify to %s failed (%d so far): %s", self.address, self.errors, e)
        if self._sock is not None:  # start over with a fresh socket next time
            self._sock.close()
            self._sock = None


def _status_field(text: str) -> str:
    return "STATUS=" + " ".join(str(text).split())


def watchdog_interval(
    environ: Mapping[str, str] | None = None, pid: int | None = None
) -> float | None:
    """Seconds between keep-alives (half of WATCHDOG_USEC), or None when no watchdog is
    set for this process (unset, malformed, or WATCHDOG_PID names another process)."""
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner:
        try:
            if int(owner) != (os.getpid() if pid is None else pid):
                return None
        except ValueError:
            return None
    return usec / 2 / 1_000_000
