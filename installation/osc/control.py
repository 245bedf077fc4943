"""OSC remote control: /installation/throw, /roll, /blackout, /status ... over UDP.

Two layers, as in python-osc itself: `ControlRouter` (osc/router.py) is pure, so every
rule is tested on raw bytes; `ControlServer` here is the thin UDP transport. Nothing
that arrives can stop remote control:

- every datagram is decoded under bounds (osc/datagrams.py) inside a catch-all, and
  costs at worst a counter and a log line limited by kind;
- replies to a source stay within its reply budget (osc/budget.py): at most twice the
  bytes it sent plus a small allowance, so control cannot be used as a reflector;
- a watchdog thread watches the receive thread's heartbeat. A thread that has not
  beaten for `stall_s` (stuck in the status callback, say) is abandoned: a new thread
  on a new socket on the same port takes over, counted as `restarts`. If that fails,
  `healthy()` is False (so the app can stop systemd's keep-alives) and it keeps trying.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from installation.errors import OscError
from installation.osc import addresses as A
from installation.osc.budget import ReplyBudget
from installation.osc.datagrams import KindLog
from installation.osc.router import ControlRouter, Routed, parse_faces, trigger_fires

__all__ = [
    "ControlRouter",
    "ControlServer",
    "Routed",
    "encode_message",
    "parse_faces",
    "trigger_fires",
]

log = logging.getLogger(__name__)

STALL_S = 5.0  # a receive thread silent this long while running is restarted
LOG_EVERY_S = 30.0  # per counter reason: log once, then a summary at most this often


def encode_message(address: str, args: Sequence[Any]) -> bytes:
    """A plain OSC message; ints are sent as int32 where they fit (python-osc's guess)."""
    builder = OscMessageBuilder(address)
    for a in args:
        builder.add_arg(a)
    return builder.build().dgram


class ControlServer:
    """UDP transport for ControlRouter: a receive thread and its watchdog. Replies go to
    the sender (or to the sender's IP at `reply_port`). start() raises OscError if it
    cannot bind. `restarted` / `restart_failed` are set on each (failed) restart."""

    def __init__(
        self,
        listen: str,
        allow: list[str],
        inbox: queue.Queue[Any],
        status: Callable[[], dict[str, Any]],
        *,
        dice: int,
        faces: int,
        reply_port: int | None = None,
        stall_s: float = STALL_S,
        budget: ReplyBudget | None = None,
    ) -> None:
        try:
            self._bind = A.parse_hostport(listen)
            self.router = ControlRouter(allow, status, dice=dice, faces=faces)
        except ValueError as e:
            raise OscError(f"osc: {e}") from None
        if not 0.1 <= stall_s <= 3600:
            raise OscError(f"osc: stall_s must be 0.1..3600 seconds, got {stall_s!r}")
        self.inbox = inbox
        self.reply_port = reply_port
        self.stall_s = stall_s
        self.budget = budget or ReplyBudget()
        self.restarted = threading.Event()
        self.restart_failed = threading.Event()
        self._poll_s = min(1.0, stall_s / 4)  # receive timeout: the heartbeat's pace
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # counters
        self._life = threading.Lock()  # start, stop, restart
        self._log = KindLog(log, "OSC control", LOG_EVERY_S)
        self._bound: tuple[str, int] | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._watch: threading.Thread | None = None
        self._gen = 0  # the receive thread's generation; older threads stop at once
        self._beat = 0.0
        self._healthy = True
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        state = "stopped" if self._watch is None else "running"
        state += "" if self._healthy else " unhealthy"
        return f"<ControlServer {self.address[0]}:{self.address[1]} {state} {self.counters}>"

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the configured one before start()."""
        return self._bound or self._bind

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def healthy(self) -> bool:
        """False while the receive thread is stuck and could not be replaced."""
        return self._healthy

    def status(self) -> dict[str, Any]:
        """The status section: what was received, refused and answered, and whether the
        receive thread is healthy."""
        host, port = self.address
        return {"listen": f"{host}:{port}", "healthy": self._healthy, "counters": self.counters}

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        with self._life:
            if self._watch is not None:
                return
            try:
                sock = self._open(self._bind)
            except OSError as e:
                host, port = self._bind
                raise OscError(
                    f"osc: cannot listen on {host}:{port}: {e.strerror or e}"
                    " (another kiosk, or another program, has that port: stop it or set"
                    " [osc] listen to another port)"
                ) from None
            host, port = sock.getsockname()[:2]
            self._bound = (str(host), int(port))
            self._stopping.clear()
            self._healthy = True
            self._spawn(sock)
            self._watch = threading.Thread(target=self._watchdog, name="osc-watchdog", daemon=True)
            self._watch.start()
        log.info("OSC control listening on %s:%d", *self.address)

    def stop(self) -> None:
        with self._life:
            watch = self._watch
            if watch is None:
                return
            self._stopping.set()
        watch.join(timeout=3.0)  # first: no restart can start a thread after this
        with self._life:
            thread, sock = self._thread, self._sock
        host, port = self.address
        wake = "127.0.0.1" if host == "0.0.0.0" else host
        # The receive timeout ends the thread anyway if this wake-up is lost.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, suppress(OSError):
            s.sendto(b"", (wake, port))
        if thread is not None:
            thread.join(timeout=3.0)  # a stuck thread is a daemon: left behind, harmless
        if sock is not None:
            sock.close()
        with self._life:
            self._watch = self._thread = self._sock = None
            self._bound = None

    def _open(self, where: tuple[str, int]) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(where)
        except OSError:
            sock.close()
            raise
        sock.settimeout(self._poll_s)
        return sock

    def _spawn(self, sock: socket.socket) -> None:
        """A new receive thread on `sock` (called with _life held)."""
        self._gen += 1
        self._sock = sock
        self._beat = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, args=(sock, self._gen), name="osc-control", daemon=True
        )
        self._thread.start()

    # -- the watchdog -------------------------------------------------------------------
    def _watchdog(self) -> None:
        while not self._stopping.wait(self._poll_s):
            thread = self._thread
            silent = time.monotonic() - self._beat
            if silent > self.stall_s:
                self._restart(f"no heartbeat for {silent:.1f} s (limit {self.stall_s:g} s)")
            elif thread is None or not thread.is_alive():
                self._restart("the receive thread ended")

    def _restart(self, why: str) -> None:
        with self._life:
            if self._stopping.is_set() or self._bound is None:
                return
            self._gen += 1  # the old thread, wherever it is stuck, never acts again
            old, self._sock = self._sock, None
            if old is not None:
                with suppress(OSError):
                    old.shutdown(socket.SHUT_RDWR)  # wakes a receive in progress (Linux)
                old.close()
            try:
                sock = self._open(self._bound)
            except OSError as e:
                self._healthy = False
                self._count(["restart_failed"], [("restart_failed", f"{why}; bind: {e}")])
                self.restart_failed.set()
                return
            self._spawn(sock)
            self._healthy = True
        self._count(["restarts"], [("restart", f"{why}: a new receive thread took over")])
        self.restarted.set()

    # -- the receive thread -------------------------------------------------------------
    def _current(self, gen: int) -> bool:
        return gen == self._gen and not self._stopping.is_set()

    def _run(self, sock: socket.socket, gen: int) -> None:
        while self._current(gen):
            self._beat = time.monotonic()
            try:
                data, sender = sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError as e:
                if self._current(gen):
                    self._count(["receive_error"], [("receive_error", str(e))])
                    self._stopping.wait(0.05)  # never spin on a persistent error
                continue
            if not self._current(gen):
                break
            self._beat = time.monotonic()
            try:
                self._handle(data, sender, sock, gen)
            except Exception as e:  # the last guard: a bug here must not end control
                self._count(["handler_error"], [("handler_error", f"{type(e).__name__}: {e}")])

    def _handle(self, data: bytes, sender: tuple[str, int], sock: socket.socket, gen: int) -> None:
        if not data:
            self._count(["datagrams", "empty"], [])
            return
        ip = sender[0]
        out = self.router.handle(data, ip)
        if out.allowed:
            self.budget.received(ip, len(data))
        self._count(out.counts, out.notes)  # before any effect, so a reader never sees less
        if gen != self._gen:  # the watchdog gave up on this thread meanwhile: act no more
            self._count(["abandoned"], [])
            return
        after = Routed()
        for event in out.events:
            try:
                self.inbox.put_nowait(event)
            except queue.Full:
                after.counts.append("inbox_full")
                after.notes.append(("inbox_full", f"dropped {type(event).__name__}"))
        to = (ip, self.reply_port or sender[1])
        for address, args in out.replies:
            try:
                payload = encode_message(address, args)
                if not self.budget.take(ip, len(payload)):
                    after.counts.append("replies_dropped")
                    after.notes.append(("replies_dropped", f"{address} to {ip}: over budget"))
                    continue
                sock.sendto(payload, to)
                after.counts.append("replies")
            except Exception as e:  # OSError, or a value python-osc cannot encode
                after.counts.append("reply_failed")
                after.notes.append(("reply_failed", f"{address} to {to[0]}:{to[1]}: {e}"))
        self._count(after.counts, after.notes)

    def _count(self, counts: list[str], notes: list[tuple[str, str]]) -> None:
        with self._lock:
            self._counts.update(counts)
        for reason, detail in notes:
            self._log(reason, detail)
