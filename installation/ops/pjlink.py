"""Projector power over PJLink class 1, following the opening hours.

Why a small stdlib client instead of a library: we need three commands (POWR 1,
POWR 0, POWR ?) from one background thread, with short timeouts and errors we can
name. pypjlink2 is synchronous but validates with `assert` (gone under -O) and
answers a wrong password with False; aiopjlink is async and would need an event loop
in a thread just for this. The protocol is one line per command over TCP 4352:

    projector: "PJLINK 0\\r" (no auth) or "PJLINK 1 <salt>\\r" (auth)
    us:        "[md5(salt + password)]%1POWR ?\\r"   (the digest on the first command only)
    projector: "%1POWR=1\\r" (0 off, 1 on, 2 cooling, 3 warming), "%1POWR=OK",
               "%1POWR=ERR3" (unavailable time: retry later) or "PJLINK ERRA" (bad password)

`ProjectorController` asks the schedule for the phase, wants the projectors on
during warm-up and opening hours and off when closed, and follows each projector
until it reports that power state. Failures back off, reach the log once (then at
most every LOG_EVERY_S) and show in `status()`. Nothing it does can raise into the app.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from installation.core.schedule import Schedule
from installation.errors import ProjectorAuthError, ProjectorBusy, ProjectorError

log = logging.getLogger(__name__)

PORT = 4352
POWER = {"0": "off", "1": "on", "2": "cooling", "3": "warming"}
ERRORS = {
    "ERR1": "undefined command",
    "ERR2": "parameter out of range",
    "ERR3": "unavailable time (warming up or cooling down)",
    "ERR4": "projector failure",
}
MAX_LINE = 512  # a PJLink line is at most 136 bytes; anything longer is not PJLink
LOG_EVERY_S = 900.0


class PJLinkSession:
    """One TCP connection to a projector: greeting, then commands. Use `with`."""

    def __init__(self, host: str, port: int = PORT, password: str = "", timeout: float = 2.0):
        self.host, self.port, self.password, self.timeout = host, port, password, timeout
        self._sock: socket.socket | None = None
        self._digest = ""
        self._buffer = b""

    def __enter__(self) -> PJLinkSession:
        where = f"{self.host}:{self.port}"
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except TimeoutError:
            raise ProjectorError(f"{where}: no answer within {self.timeout:g} s") from None
        except OSError as e:
            raise ProjectorError(f"{where}: cannot connect: {e.strerror or e}") from None
        try:
            self._greet(self._line())
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _greet(self, line: str) -> None:
        parts = line.split()
        if parts[:2] == ["PJLINK", "0"]:
            return
        if parts[:2] == ["PJLINK", "1"] and len(parts) == 3:
            if not self.password:
                raise ProjectorAuthError(
                    f"{self.host}:{self.port}: the projector asks for a PJLink password; "
                    "set password for this projector in the show"
                )
            self._digest = hashlib.md5((parts[2] + self.password).encode()).hexdigest()
            return
        if parts[:2] == ["PJLINK", "ERRA"]:
            raise ProjectorAuthError(f"{self.host}:{self.port}: authentication refused")
        raise ProjectorError(f"{self.host}:{self.port}: not a PJLink greeting: {line[:60]!r}")

    def command(self, body: str) -> str:
        """Send '%1<body>' (e.g. 'POWR ?') and return the answer after '='."""
        assert self._sock is not None, "use PJLinkSession as a context manager"
        name = body.split()[0]
        self._send(f"{self._digest}%1{body}\r".encode("ascii"))
        self._digest = ""  # only the first command carries it
        line = self._line()
        where = f"{self.host}:{self.port}"
        if line.startswith("PJLINK ERRA"):
            raise ProjectorAuthError(f"{where}: wrong PJLink password")
        prefix = f"%1{name}="
        if not line.upper().startswith(prefix):
            raise ProjectorError(f"{where}: {name}: unexpected answer {line[:60]!r}")
        value = line[len(prefix) :].strip()
        if value.upper() == "ERR3":
            raise ProjectorBusy(f"{where}: {name}: {ERRORS['ERR3']}")
        if value.upper() in ERRORS:
            raise ProjectorError(f"{where}: {name}: {ERRORS[value.upper()]}")
        return value

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)  # type: ignore[union-attr]
        except OSError as e:
            raise ProjectorError(f"{self.host}:{self.port}: send failed: {e}") from None

    def _line(self) -> str:
        """One '\\r'-terminated line, within the timeout overall (a slow drip cannot hang us)."""
        assert self._sock is not None
        deadline = time.monotonic() + self.timeout
        while b"\r" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or len(self._buffer) > MAX_LINE:
                why = "no answer" if left <= 0 else "an over-long line"
                raise ProjectorError(f"{self.host}:{self.port}: {why} within {self.timeout:g} s")
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(256)
            except TimeoutError:
                continue
            except OSError as e:
                raise ProjectorError(f"{self.host}:{self.port}: receive failed: {e}") from None
            if not chunk:
                raise ProjectorError(f"{self.host}:{self.port}: the projector closed the link")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r")
        return line.decode("ascii", "replace").strip("\n ")


class ProjectorLike(Protocol):
    """What the controller needs of a show's ProjectorEntry."""

    @property
    def name(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def password(self) -> str: ...


@dataclass
class _Track:
    p: ProjectorLike
    power: str = "unknown"
    error: str | None = None
    failures: int = 0
    next_at: float = 0.0
    wanted: bool | None = None
    logged: tuple[str, float] | None = None


@dataclass(frozen=True)
class Pacing:
    timeout_s: float = 2.0  # per connect and per answer
    check_every_s: float = 60.0  # settled: re-check (someone may use the remote)
    follow_every_s: float = 5.0  # warming or cooling: look again soon
    backoff_s: float = 2.0  # first retry after a failure, doubling ...
    backoff_max_s: float = 120.0  # ... up to this
    min_off_s: float = 1800.0  # closed for less than this (lunch): leave them as they are


class ProjectorController:
    """Keeps projectors' power in line with the schedule, from a daemon thread."""

    def __init__(
        self,
        projectors: Sequence[ProjectorLike],
        schedule: Schedule,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        pacing: Pacing | None = None,
        on_fault: Callable[[str, str], None] | None = None,
    ) -> None:
        self.tracks = [_Track(p) for p in projectors]
        # told of each failure when it is logged (the status board's error(): thread-safe)
        self.on_fault = on_fault
        self.schedule = schedule
        self.clock = clock
        self.wall = wall
        self.pacing = pacing or Pacing()
        self.override: bool | None = None  # forced on/off (e.g. by a technician), None: schedule
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        states = " ".join(f"{t.p.name}:{t.power}" for t in self.tracks)
        return f"<ProjectorController {states}>"

    def start(self) -> None:
        if self._thread is None and self.tracks:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="pjlink", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.pacing.timeout_s * 3 + 1)
            self._thread = None

    @property
    def running(self) -> bool:
        """Its thread is alive (started and not stopped)."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # a bug here must not end power control silently
                log.exception("projector control step failed")
            self._stop.wait(1.0)

    def wanted(self) -> bool | None:
        """True on, False off, None leave as is (a short closed gap, e.g. lunch)."""
        if self.override is not None:
            return self.override
        now = self.wall()
        phase = self.schedule.phase_at(now)
        if phase != "closed":
            return True
        back = self.schedule.next_change(now)
        if back is not None and (back - now).total_seconds() < self.pacing.min_off_s:
            return None
        return False

    def step(self) -> None:
        """Visit every projector that is due (or whose wanted state changed)."""
        wanted = self.wanted()
        for t in self.tracks:
            now = self.clock()
            if wanted != t.wanted:
                t.wanted, t.next_at = wanted, now
            if now >= t.next_at:
                self._visit(t, wanted, now)

    def _visit(self, t: _Track, wanted: bool | None, now: float) -> None:
        pace = self.pacing
        try:
            with PJLinkSession(t.p.host, t.p.port, t.p.password, pace.timeout_s) as s:
                power = POWER.get(s.command("POWR ?"), "unknown")
                if wanted is True and power == "off":
                    s.command("POWR 1")
                    power = "warming"
                elif wanted is False and power == "on":
                    s.command("POWR 0")
                    power = "cooling"
        except ProjectorError as e:
            self._failed(t, e, now)
            return
        settled = power in ("on", "off") and (wanted is None or (power == "on") == wanted)
        with self._lock:
            t.power = power
            t.next_at = now + (pace.check_every_s if settled else pace.follow_every_s)
            if t.error is not None:
                log.info("projector %s: reachable again (%s)", t.p.name, power)
            t.error, t.failures, t.logged = None, 0, None

    def _failed(self, t: _Track, e: ProjectorError, now: float) -> None:
        pace = self.pacing
        with self._lock:
            t.failures += 1
            t.error = str(e)
            t.next_at = now + min(pace.backoff_max_s, pace.backoff_s * 2 ** (t.failures - 1))
            if isinstance(e, ProjectorBusy):
                return  # expected while warming or cooling: retried, not alarming
            last = t.logged
            if last is None or last[0] != t.error or now - last[1] >= LOG_EVERY_S:
                t.logged = (t.error, now)
                log.warning("projector %s: %s (failure %d)", t.p.name, e, t.failures)
                if self.on_fault is not None:
                    self.on_fault("projector", f"projector {t.p.name}: {e}")

    def status(self) -> dict[str, Any]:
        """Per projector: where, wanted and reported power, the last error, failures."""
        wanted = {True: "on", False: "off", None: "either"}
        with self._lock:
            return {
                t.p.name: {
                    "host": f"{t.p.host}:{t.p.port}",
                    "wanted": wanted[t.wanted],
                    "power": t.power,
                    "error": t.error,
                    "failures": t.failures,
                }
                for t in self.tracks
            }
