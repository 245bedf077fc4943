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
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from installation.core.events import InboxEvent, LinkStatus, ThrowCancelled, ThrowCommitted
from installation.core.throws import DieEvent, ThrowDetector
from installation.dice import ports as portnames
from installation.dice.protocol import (
    DEFAULT_BAUD,
    FACES,
    HOST_HELLO,
    HOST_STATE,
    PROTOCOL_VERSION,
    DeviceError,
    Dropped,
    Hello,
    LineSplitter,
    decode,
)
from installation.errors import DiceError, ProtocolMismatch

log = logging.getLogger("installation.dice")

HELLO_RETRY_S = 1.0  # ask ?HELLO again this often until the device answers
LOG_EVERY_S = 60.0  # a repeated drop reason or device error is logged at most this often
DEVICE_CHECK_S = 1.0  # check this often that the port's name still names the open device
TICK_IDLE_S = 0.25  # with no throw open the ticker only wakes to notice stop()


class _SessionEnd(Exception):
    """The current session on a port is over (silence, mismatch); reopen it."""

    def __init__(self, text: str, healthy: bool) -> None:
        super().__init__(text)
        self.healthy = healthy  # the device spoke v1 this session: restart the backoff


@dataclass
class _Port:
    """Live state of one configured port."""

    name: portnames.PortName
    index: int
    device: str = ""
    open: bool = False
    connected: bool = False  # open and a valid frame seen this session
    firmware: str = ""
    dice: int | None = None  # from HELLO; kept across reconnects for numbering
    reconnects: int = 0
    last_error: str = ""
    device_error: str = ""
    device_errors: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    last_valid: float = 0.0
    logged: dict[str, float] = field(default_factory=dict)


class DiceLink:
    """Physical dice on one or more serial ports -> inbox events. Thread-safe status()."""

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
        faces: int = FACES,
        backoff: tuple[float, float] = (0.5, 5.0),
        read_timeout_s: float = 0.05,
        every_die_must_move: bool = True,
    ) -> None:
        if not ports:
            raise DiceError("DiceLink needs at least one port (dice.ports in the show)")
        self._ports = [_Port(portnames.parse(p), i) for i, p in enumerate(ports)]
        self.baud = baud
        self.dice = dice
        self.faces = faces
        self.silence_timeout_s = silence_timeout_s
        self.inbox = inbox
        self.clock = clock
        self.backoff = backoff
        self.read_timeout_s = read_timeout_s
        self.history: deque[tuple[float, InboxEvent]] = deque(maxlen=20)
        self._detector = ThrowDetector(
            dice, settle_ms, throw_timeout_s, every_die_must_move=every_die_must_move
        )
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

    def stop(self) -> None:
        """Stop every thread; returns within about one read timeout."""
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()

    # -- views -----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """For the status JSON: per port connected, firmware, dice, counters, errors."""
        with self._lock:
            ports = [
                {
                    "port": p.name.text,
                    "device": p.device,
                    "connected": p.connected,
                    "firmware": p.firmware,
                    "dice": p.dice,
                    "dropped": dict(p.dropped),
                    "reconnects": p.reconnects,
                    "last_error": p.last_error,
                    "device_error": p.device_error,
                    "device_errors": p.device_errors,
                }
                for p in self._ports
            ]
        return {
            "connected": all(p["connected"] for p in ports),
            "dice": self.dice,
            "dice_reported": sum(p.dice or 0 for p in self._ports),
            "dropped": dict(sum((p.dropped for p in self._ports), Counter())),
            "ports": ports,
        }

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

    def _supervise(self, port: _Port) -> None:
        import serial  # imported here: the core and tests of other parts need no pyserial

        delay = self.backoff[0]
        while not self._stop.is_set():
            try:
                port.device = portnames.resolve(port.name)
                baud = port.name.baud or self.baud
                ser = serial.Serial(port.device, baud, timeout=self.read_timeout_s, exclusive=True)
            except Exception as e:  # missing, busy, permission: all retried
                self._note_error(port, f"cannot open: {e}")
            else:
                healthy = False
                try:
                    healthy = self._session(port, ser)
                except _SessionEnd as e:
                    healthy = e.healthy
                    self._note_error(port, str(e))
                except Exception as e:  # SerialException on unplug, OSError ...
                    self._note_error(port, f"{type(e).__name__}: {e}")
                finally:
                    _close(ser)
                    self._disconnected(port)
                if healthy:
                    delay = self.backoff[0]
            if self._stop.wait(delay):
                break
            port.reconnects += 1
            delay = min(delay * 2, self.backoff[1])

    def _session(self, port: _Port, ser: Any) -> bool:
        """Read until stopped (True) or the port fails (raises). Never raises on bad bytes."""
        with self._lock:
            port.open = True
            port.last_valid = self.clock()
        ser.write(HOST_HELLO)
        asked = checked = self.clock()
        opened = _open_device(ser)
        hello = False
        splitter = LineSplitter()
        while not self._stop.is_set():
            data = ser.read(ser.in_waiting or 1)
            now = self.clock()
            for item in splitter.feed(data):
                msg = item if isinstance(item, Dropped) else decode(item, self._port_dice(port))
                hello = self._handle(port, msg, now, ser) or hello
            if now - port.last_valid > self.silence_timeout_s:
                raise _SessionEnd(f"silent for {self.silence_timeout_s:g} s: reopening", hello)
            if now - checked >= DEVICE_CHECK_S:
                checked = now
                if _renamed(port.device, opened):
                    raise _SessionEnd(f"{port.device} now names another device: reopening", hello)
            if not hello and now - asked > HELLO_RETRY_S:
                ser.write(HOST_HELLO)
                asked = now
        return True

    def _handle(self, port: _Port, msg: object, now: float, ser: Any) -> bool:
        """Act on one decoded message. True when it was a good HELLO."""
        if isinstance(msg, Dropped):
            self._drop(port, msg, now)
            return False
        if isinstance(msg, Hello):
            return self._hello(port, msg, now, ser)
        port.last_valid = now
        if not port.connected:
            self._connected(port)
        if isinstance(msg, DeviceError):
            with self._lock:
                port.device_error = f"{msg.code}: {msg.text}"
                port.device_errors += 1
            text = f"device reports {port.device_error}"
            self._log_once(port, f"err:{msg.code}", now, text, port.device_errors)
        elif isinstance(msg, DieEvent):
            self._die(port, msg, now)
        return False

    def _hello(self, port: _Port, msg: Hello, now: float, ser: Any) -> bool:
        if msg.version != PROTOCOL_VERSION:
            text = str(
                ProtocolMismatch(
                    f"device on {port.device} (firmware {msg.firmware!r}) speaks dice protocol "
                    f"version {msg.version}; this host speaks version {PROTOCOL_VERSION}: flash "
                    "hardware/firmware or update the installation"
                )
            )
            log.error("%s", text)
            raise _SessionEnd(text, False)
        port.last_valid = now
        with self._lock:
            port.firmware, port.dice = msg.firmware, msg.dice
            port.last_error = ""
        self._connected(port)  # also when already connected: firmware and dice count are news
        log.info("dice on %s: firmware %s, %d dice", port.device, msg.firmware, msg.dice)
        ser.write(HOST_STATE)
        return True

    def _die(self, port: _Port, e: DieEvent, now: float) -> None:
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

    def _drop(self, port: _Port, d: Dropped, now: float) -> None:
        with self._lock:
            port.dropped[d.reason] += 1
        text = f"dropped line ({d.reason}): {d.detail}"
        self._log_once(port, d.reason, now, text, port.dropped[d.reason])

    def _log_once(self, port: _Port, key: str, now: float, text: str, count: int) -> None:
        """Log a kind of trouble at most once a minute per port, with the running count."""
        last = port.logged.get(key)
        if last is None or now - last >= LOG_EVERY_S:
            port.logged[key] = now
            log.warning("%s: %s [%d so far]", port.name.text, text, count)

    def _note_error(self, port: _Port, text: str) -> None:
        with self._lock:
            changed = text != port.last_error
            port.last_error = text
        if changed:  # the same failure every backoff step is logged once
            log.warning("%s: %s", port.name.text, text)

    def _connected(self, port: _Port) -> None:
        with self._lock:
            was, port.connected = port.connected, True
        if not was:
            log.info("%s: connected (%s)", port.name.text, port.device)
        self.inbox.put(LinkStatus("dice", self.status()))

    def _disconnected(self, port: _Port) -> None:
        was = port.connected
        first = self._offset(port) + 1
        with self._lock:
            port.open = port.connected = False
            events = self._detector.lost(
                range(first, first + (port.dice or 1)), self.clock(), f"{port.name.text} lost"
            )
        self._emit(events)
        if was:
            self.inbox.put(LinkStatus("dice", self.status()))

    def _offset(self, port: _Port) -> int:
        return sum(p.dice or 1 for p in self._ports[: port.index])

    def _port_dice(self, port: _Port) -> int | None:
        return port.dice


def _open_device(ser: Any) -> int | None:
    """The device number of the open port, None if it cannot be told."""
    try:
        return os.fstat(ser.fileno()).st_rdev
    except (OSError, AttributeError, TypeError, ValueError):
        return None


def _renamed(path: str, opened: int | None) -> bool:
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


def _close(ser: Any) -> None:
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
