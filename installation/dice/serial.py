"""DiceLink: supervised serial readers that turn die reports into throws in the app's inbox.

One thread per port opens it (exclusively), says ?HELLO and ?STATE, and reads
lines with a short timeout. A port that errors, goes silent for
`silence_timeout_s`, answers with another protocol version or whose name now
names another device (a by-id link re-pointed after a replug) is closed and
reopened with a backoff of 0.5 s doubling to 5 s, forever. pyserial's
ReaderThread/LineReader are not used: they never reconnect and LineReader's
buffer grows without bound on noise with no newline; this loop is as short.

Die numbers run on across ports in the order listed, using each port's HELLO
count (a port not heard from yet counts as 1 die, the one-die-per-cable case).

A port is connected from its first good HELLO in a session. The log gets one
line per connect, reconnect and disconnect (with the reason); failed retries
only when their reason changes, and not while a lost device is away; whatever
the device sends is logged by kind at most once a minute (ratelog.py). The
status section "dice" (status()) is read live on every call.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from installation.core.events import InboxEvent, LinkStatus, ThrowCancelled, ThrowCommitted
from installation.core.throws import DieEvent, ThrowDetector
from installation.dice import ports as portnames
from installation.dice.portstate import PortState, is_busy, section
from installation.dice.protocol import (
    DEFAULT_BAUD,
    FACES,
    HOST_HELLO,
    HOST_STATE,
    MAX_FACES,
    PROTOCOL_VERSION,
    DeviceError,
    Dropped,
    Hello,
    LineSplitter,
    decode,
)
from installation.dice.ratelog import RateLog
from installation.errors import DiceError, ProtocolMismatch

log = logging.getLogger("installation.dice")

HELLO_RETRY_S = 1.0  # ask ?HELLO again this often until the device answers
STATE_GAP_S = 0.5  # ?STATE at most this often, however many HELLOs the device sends
DEVICE_CHECK_S = 1.0  # check this often that the port's name still names the open device
FLUSH_EVERY_S = 1.0  # how often held-back log lines are summed up when their window ends
HOLDERS_EVERY_S = 30.0  # /proc is searched for a busy port's holder at most this often
TICK_IDLE_S = 0.25  # with no throw open the ticker only wakes to notice stop()


class _SessionEnd(Exception):
    """The current session on a port is over (silence, mismatch); reopen it."""

    def __init__(self, text: str, healthy: bool, level: int = logging.WARNING) -> None:
        super().__init__(text)
        self.healthy = healthy  # the device spoke v1 this session: restart the backoff
        self.level = level


@dataclass
class _Session:
    """One open of a port: what was asked and heard since."""

    opened: int | None  # device number of the open port
    asked: float  # last ?HELLO
    checked: float  # last rename check
    flushed: float  # last ratelog flush
    hello: bool = False  # a good HELLO heard
    state_due: bool = False  # a ?STATE is owed (sent once STATE_GAP_S has passed)
    state_sent: float = float("-inf")


class DiceLink:
    """Physical dice on one or more serial ports -> inbox events. Thread-safe status()."""

    status_name = "dice"  # the app's status section: everything about the dice, live

    def __init__(
        self,
        ports: list[str],
        *,
        baud: int = DEFAULT_BAUD,
        dice: int,
        settle_ms: int = 300,
        throw_timeout_s: float = 8.0,
        silence_timeout_s: float = 3.0,
        inbox: queue.Queue[Any],
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        faces: int = FACES,
        backoff: tuple[float, float] = (0.5, 5.0),
        read_timeout_s: float = 0.05,
        every_die_must_move: bool = True,
    ) -> None:
        if not ports:
            raise DiceError("DiceLink needs at least one port (dice.ports in the show)")
        if not 1 <= faces <= MAX_FACES:
            raise DiceError(f"faces per die must be 1..{MAX_FACES} (the protocol), got {faces}")
        self._ports = [PortState(portnames.parse(p), i) for i, p in enumerate(ports)]
        self.baud = baud
        self.dice = dice
        self.faces = faces
        self.silence_timeout_s = silence_timeout_s
        self.inbox = inbox
        self.clock = clock
        self.wall = wall
        self.backoff = backoff
        self.read_timeout_s = read_timeout_s
        self.history: deque[tuple[float, InboxEvent]] = deque(maxlen=20)
        try:
            self._detector = ThrowDetector(
                dice, settle_ms, throw_timeout_s, every_die_must_move=every_die_must_move
            )
        except ValueError as e:
            raise DiceError(str(e)) from None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a new reading: the ticker re-reads the deadline
        self._threads: list[threading.Thread] = []

    def __repr__(self) -> str:
        up = sum(p.connected for p in self._ports)
        return f"<DiceLink {up}/{len(self._ports)} ports connected {self._detector!r}>"

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start one supervised reader per port plus a ticker for settle and timeouts."""
        self._stop.clear()
        for p in self._ports:
            t = threading.Thread(target=self._supervise, args=(p,), name=f"dice-{p.index}")
            self._threads.append(t)
        self._threads.append(threading.Thread(target=self._ticker, name="dice-tick"))
        for t in self._threads:
            t.daemon = True
            t.start()

    def log_limiters(self) -> list[RateLog]:
        """Each port's log limiter (for the status and tests: bounded state, held lines)."""
        return [port.ratelog for port in self._ports]

    @property
    def running_threads(self) -> list[threading.Thread]:
        """The link's reader and ticker threads still alive (none once stopped)."""
        return [t for t in self._threads if t.is_alive()]

    def stop(self) -> None:
        """Stop every thread; returns within about one read timeout."""
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()

    # -- views -----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The status section "dice", live: ports, devices, connects, drops, errors."""
        with self._lock:
            ports = [p.status() for p in self._ports]
        return section(ports, self.dice, self.faces)

    def snapshot(self) -> dict[str, object]:
        """Each die's state and face, and whether a throw is open."""
        with self._lock:
            return self._detector.snapshot()

    # -- threads ---------------------------------------------------------------------
    def _ticker(self) -> None:
        """Commit a throw the moment its settle window ends (not on a polling grid): it
        sleeps until the detector's next deadline and is woken by every new reading."""
        while not self._stop.is_set():
            with self._lock:
                events = self._detector.tick(self.clock())
                deadline = self._detector.next_deadline()
            self._emit(events)
            wait = TICK_IDLE_S if deadline is None else deadline - self.clock()
            if self._wake.wait(min(max(wait, 0.0005), TICK_IDLE_S)):
                self._wake.clear()

    def _supervise(self, port: PortState) -> None:
        import serial  # imported here: the core and tests of other parts need no pyserial

        delay = self.backoff[0]
        while not self._stop.is_set():
            try:
                port.device = portnames.resolve(port.name)
                baud = port.name.baud or self.baud
                ser = serial.Serial(port.device, baud, timeout=self.read_timeout_s, exclusive=True)
            except Exception as e:  # missing, busy, permission: all retried
                self._failed(port, self._open_error(port, e))
            else:
                healthy = False
                try:
                    healthy = self._session(port, ser)
                except _SessionEnd as e:
                    healthy = e.healthy
                    self._ended(port, str(e), e.level)
                except Exception as e:  # SerialException on unplug, OSError ...
                    self._ended(port, f"{type(e).__name__}: {e}", logging.WARNING)
                finally:
                    portnames.close_quietly(ser)
                if healthy:
                    delay = self.backoff[0]
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self.backoff[1])
        self._ended(port, "stopped", logging.INFO)

    def _session(self, port: PortState, ser: Any) -> bool:
        """Read until stopped (True) or the port fails (raises). Never raises on bad bytes."""
        now = self.clock()
        with self._lock:
            port.open = True
            port.last_valid = now
            port.busy = ""
        ser.write(HOST_HELLO)
        s = _Session(portnames.device_number(ser), asked=now, checked=now, flushed=now)
        splitter = LineSplitter()
        while not self._stop.is_set():
            data = ser.read(ser.in_waiting or 1)
            now = self.clock()
            for item in splitter.feed(data):
                msg = item if isinstance(item, Dropped) else decode(item, port.dice, self.faces)
                self._handle(port, s, msg, now)
            if now - port.last_valid > self.silence_timeout_s:
                raise _SessionEnd(f"silent for {self.silence_timeout_s:g} s", s.hello)
            if now - s.checked >= DEVICE_CHECK_S:
                s.checked = now
                if portnames.renamed(port.device, s.opened):
                    raise _SessionEnd(f"{port.device} now names another device", s.hello)
            if not s.hello and now - s.asked > HELLO_RETRY_S:
                ser.write(HOST_HELLO)
                s.asked = now
            if s.state_due and now - s.state_sent >= STATE_GAP_S:
                ser.write(HOST_STATE)
                s.state_due, s.state_sent = False, now
            if now - s.flushed >= FLUSH_EVERY_S:
                s.flushed = now
                port.ratelog.flush(now)
        return True

    def _handle(self, port: PortState, s: _Session, msg: object, now: float) -> None:
        """Act on one decoded message."""
        if isinstance(msg, Dropped):
            self._drop(port, msg, now)
            return
        if isinstance(msg, Hello):
            self._hello(port, s, msg, now)
            return
        port.last_valid = now
        if isinstance(msg, DeviceError):
            with self._lock:
                port.device_error = f"{msg.code}: {msg.text}"
                port.device_errors += 1
                n = port.device_errors
            text = f"device reports {port.device_error} [{n} device errors so far]"
            port.ratelog.log("err", msg.code, now, text)
        elif isinstance(msg, DieEvent):
            self._die(port, msg, now)

    def _hello(self, port: PortState, s: _Session, msg: Hello, now: float) -> None:
        if msg.version != PROTOCOL_VERSION:
            text = str(
                ProtocolMismatch(
                    f"device on {port.device} (firmware {msg.firmware!r}) speaks dice protocol "
                    f"version {msg.version}; this host speaks version {PROTOCOL_VERSION}: flash "
                    "hardware/firmware or update the installation"
                )
            )
            raise _SessionEnd(text, False, logging.ERROR)
        port.last_valid = now
        with self._lock:
            port.firmware, port.dice = msg.firmware, msg.dice
        s.state_due = True
        if not s.hello:
            s.hello = True
            self._connected(port, now)
        else:  # a restart, or the answer to a repeated ?HELLO: news, but not 30,000 lines
            text = f"HELLO again (firmware {msg.firmware}, {msg.dice} dice)"
            port.ratelog.log("hello", "again", now, text, logging.INFO)

    def _die(self, port: PortState, e: DieEvent, now: float) -> None:
        number = self._offset(port) + e.die
        if number > self.dice:
            detail = f"die {e.die} on {port.name.text} is die {number}; the show has {self.dice}"
            self._drop(port, Dropped("die_index", detail), now)
            return
        with self._lock:
            events = self._detector.feed(replace(e, die=number), now)
        self._emit(events)
        self._wake.set()  # the settle deadline may have moved

    # -- bookkeeping -----------------------------------------------------------------
    def _emit(self, events: list[InboxEvent]) -> None:
        for ev in events:
            if isinstance(ev, ThrowCancelled):
                log.info("throw dropped: %s", ev.reason)
            elif isinstance(ev, ThrowCommitted):
                log.info("throw %s", ev.throw.key)
            self.history.append((self.clock(), ev))
            self.inbox.put(ev)

    def _drop(self, port: PortState, d: Dropped, now: float) -> None:
        with self._lock:
            port.dropped[d.reason] += 1
            n = port.dropped[d.reason]
        port.ratelog.log(
            "drop", d.reason, now, f"dropped line ({d.reason}): {d.detail} [{n} so far]"
        )

    def _open_error(self, port: PortState, e: Exception) -> str:
        """The text for a failed open; names the holder when another process has the port."""
        if not is_busy(e):
            with self._lock:
                port.busy = ""
            return f"cannot open: {e}"
        now = self.clock()
        if port.busy and port.holders_at is not None and now - port.holders_at < HOLDERS_EVERY_S:
            return port.last_error  # searching /proc on every retry would cost more than it tells
        port.holders_at = now
        busy = f"held by another process ({portnames.describe_holders(port.device)})"
        with self._lock:
            port.busy = busy
        return f"cannot open {port.device}: it is {busy}; only one program can read the dice"

    def _failed(self, port: PortState, text: str, level: int = logging.WARNING) -> None:
        """An open failed, or a session ended before a good HELLO: retried, logged once.

        While a lost device is away its retries are not logged (the disconnect line said
        it), unless another process has taken the port.
        """
        with self._lock:
            port.retries += 1
            port.last_error = text
        quiet = port.lost_at is not None and not port.busy
        if text != port.logged_failure and not quiet:
            port.logged_failure = text
            log.log(level, "%s: %s", port.name.text, text)

    def _connected(self, port: PortState, now: float) -> None:
        """The first good HELLO of a session: one log line, connect or reconnect."""
        with self._lock:
            back = port.ever_connected
            port.connected = port.ever_connected = True
            port.reconnects += back
            port.last_error = port.busy = port.logged_failure = ""
            port.last_connect = {"at": round(self.wall(), 3), "device": port.device}
            away = f" after {now - port.lost_at:.1f} s" if port.lost_at is not None else ""
            port.lost_at = None
        what = f"reconnected{away}" if back else "connected"
        log.info(
            "%s: %s (%s): firmware %s, %s dice",
            port.name.text,
            what,
            port.device,
            port.firmware,
            port.dice,
        )
        self.inbox.put(LinkStatus("dice", self.status()))

    def _ended(self, port: PortState, reason: str, level: int) -> None:
        """A session ended (or the link stopped): cancel its throw; one line if it was up."""
        first = self._offset(port) + 1
        with self._lock:
            was = port.connected
            port.open = port.connected = False
            if was:
                port.last_error = reason
                port.last_disconnect = {"at": round(self.wall(), 3), "reason": reason}
                port.lost_at = self.clock()
            events = self._detector.lost(
                range(first, first + (port.dice or 1)), self.clock(), f"{port.name.text} lost"
            )
        self._emit(events)
        if was:
            log.log(level, "%s: disconnected: %s", port.name.text, reason)
            self.inbox.put(LinkStatus("dice", self.status()))
        elif reason != "stopped":
            self._failed(port, reason, level)

    def _offset(self, port: PortState) -> int:
        return sum(p.dice or 1 for p in self._ports[: port.index])
