"""OSC remote control: /installation/throw, /roll, /blackout, /status ... over UDP.

Two layers, as in python-osc itself: `ControlRouter` is pure (datagram bytes and the
sender's IP in, inbox events, replies and counter reasons out) so every rule is
tested without sockets; `ControlServer` is the thin UDP transport in a daemon thread.
Nothing that arrives can crash or stall the thread: bundle timetags are ignored
(messages are handled on arrival, never slept on), and every datagram is handled
inside a catch-all.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.core.dice import Throw
from installation.core.events import (
    Blackout,
    InboxEvent,
    RandomThrow,
    ReloadShow,
    Resume,
    ThrowCommitted,
)
from installation.errors import OscError
from installation.osc import addresses as A

log = logging.getLogger(__name__)

MAX_DATAGRAM = 8192  # control messages are tiny; bigger datagrams are dropped unread
MAX_MESSAGES = 32  # per datagram (bundles): bounds the replies one datagram can cause
MAX_REASON = 300  # characters of an error reply
LOG_EVERY_S = 30.0  # per counter reason: log once, then a summary at most this often

_TRIGGERS: dict[str, Callable[[], InboxEvent]] = {
    A.ROLL: lambda: RandomThrow("osc"),
    A.BLACKOUT: Blackout,
    A.RESUME: Resume,
    A.RELOAD: lambda: ReloadShow("osc"),
}


@dataclass
class Effects:
    """What one datagram caused: events for the inbox, replies, counter reasons, notes."""

    events: list[InboxEvent] = field(default_factory=list)
    replies: list[tuple[str, list[Any]]] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (reason, detail) to log


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_faces(params: Sequence[object], dice: int, faces: int) -> tuple[int, ...]:
    """Throw arguments -> faces. ValueError naming what was wrong and what is accepted.

    Accepted: exactly one number per die, each a whole number 1..faces. OSC ints, and
    floats with no fractional part (3.0: TouchOSC sends floats), are both fine.
    """
    accepted = f"send {dice} int{'s' if dice > 1 else ''} (one per die), each 1..{faces}"
    if len(params) != dice:
        got = ", ".join(_short(p) for p in params[:10]) + (" ..." if len(params) > 10 else "")
        raise ValueError(f"got {len(params)} argument(s) [{got}]; {accepted}")
    out: list[int] = []
    for i, p in enumerate(params, start=1):
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise ValueError(f"die {i}: {_short(p)} is not a number; {accepted}")
        if isinstance(p, float) and (not math.isfinite(p) or not p.is_integer()):
            raise ValueError(f"die {i}: {p!r} is not a whole number; {accepted}")
        face = int(p)
        if not 1 <= face <= faces:
            raise ValueError(f"die {i}: {face} is out of range; {accepted}")
        out.append(face)
    return tuple(out)


def trigger_fires(params: Sequence[object]) -> bool | None:
    """No-argument commands: True fire, False ignore (a button's release), None bad.

    Accepted: no arguments, or one number (non-zero fires, 0 is a button release).
    """
    if not params:
        return True
    if len(params) == 1 and isinstance(params[0], int | float | bool):
        return bool(params[0])
    return None


class ControlRouter:
    """Pure control logic: who may talk, what each address does, what to reply."""

    def __init__(
        self, allow: Sequence[str], status: Callable[[], dict[str, Any]], *, dice: int, faces: int
    ) -> None:
        self.allow = A.parse_allow(allow)
        self.status = status
        self.dice = dice
        self.faces = faces

    def handle(self, data: bytes, sender_ip: str) -> Effects:
        out = Effects(counts=["datagrams"])
        if not A.is_allowed(sender_ip, self.allow):
            out.counts.append("not_allowed")
            out.notes.append(("not_allowed", f"ignored a datagram from {sender_ip}"))
            return out
        if len(data) > MAX_DATAGRAM:
            out.counts.append("too_large")
            out.notes.append(("too_large", f"{len(data)} bytes from {sender_ip}"))
            return out
        try:
            messages = [m.message for m in OscPacket(data).messages]
        except Exception as e:  # ParseError, UnicodeDecodeError, struct errors, recursion
            out.counts.append("malformed")
            out.notes.append(("malformed", f"{len(data)} bytes from {sender_ip}: {e}"))
            return out
        if len(messages) > MAX_MESSAGES:
            out.counts.append("too_many_messages")
            out.notes.append(("too_many_messages", f"{len(messages)} in one bundle"))
            messages = messages[:MAX_MESSAGES]
        for message in messages:
            self._message(message.address, list(message.params), out)
        return out

    def _message(self, address: str, params: list[Any], out: Effects) -> None:
        out.counts.append("messages")
        if address == A.THROW:
            try:
                faces = parse_faces(params, self.dice, self.faces)
            except ValueError as e:
                self._bad(out, address, str(e))
                return
            out.events.append(ThrowCommitted(Throw(faces, source="osc")))
        elif address in _TRIGGERS or address == A.STATUS:
            fires = trigger_fires(params)
            if fires is None:
                got = ", ".join(_short(p) for p in params[:5])
                self._bad(out, address, f"got [{got}]; send no arguments, or 1 to fire")
                return
            if not fires:
                out.counts.append("released")
                return
            if address == A.STATUS:
                self._status(out)
            else:
                out.events.append(_TRIGGERS[address]())
        elif address == A.PING:
            echo = [p for p in params[:8] if isinstance(p, int | float | str)]
            out.replies.append((A.PONG, echo))
        else:
            out.counts.append("unknown_address")
            out.notes.append(("unknown_address", _short(address)))
            return
        out.counts.append("commands")

    def _status(self, out: Effects) -> None:
        try:
            text = json.dumps(self.status(), sort_keys=True, default=str)
        except Exception as e:
            self._bad(out, A.STATUS, f"status unavailable: {type(e).__name__}: {e}")
            out.counts.append("status_failed")
            return
        if len(text.encode("utf-8")) > 60000:
            self._bad(out, A.STATUS, "status too large for one datagram")
            return
        out.replies.append((A.STATUS, [text]))

    def _bad(self, out: Effects, address: str, reason: str) -> None:
        reason = f"{address}: {reason}"[:MAX_REASON]
        out.counts.append("bad_args")
        out.notes.append(("bad_args", reason))
        out.replies.append((A.ERROR, [address, reason]))


def encode_message(address: str, args: Sequence[Any]) -> bytes:
    """A plain OSC message; ints are sent as int32 where they fit (python-osc's guess)."""
    builder = OscMessageBuilder(address)
    for a in args:
        builder.add_arg(a)
    return builder.build().dgram


class ControlServer:
    """UDP transport for ControlRouter in a daemon thread. Replies go to the sender
    (or to the sender's IP at `reply_port`). start() raises OscError if it cannot bind."""

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
    ) -> None:
        try:
            self._bind = A.parse_hostport(listen)
            self.router = ControlRouter(allow, status, dice=dice, faces=faces)
        except ValueError as e:
            raise OscError(f"osc: {e}") from None
        self.inbox = inbox
        self.reply_port = reply_port
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._logged: dict[str, tuple[float, int]] = {}
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        state = "running" if self._thread and self._thread.is_alive() else "stopped"
        return f"<ControlServer {self._bind[0]}:{self._bind[1]} {state} {dict(self.counters)}>"

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the configured one before start()."""
        if self._sock is None:
            return self._bind
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def start(self) -> None:
        if self._thread is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(self._bind)
        except OSError as e:
            sock.close()
            host, port = self._bind
            raise OscError(f"osc: cannot listen on {host}:{port}: {e.strerror or e}") from None
        sock.settimeout(1.0)  # stop() also wakes the thread with an empty datagram
        self._sock = sock
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="osc-control", daemon=True)
        self._thread.start()
        log.info("OSC control listening on %s:%d", *self.address)

    def stop(self) -> None:
        thread, sock = self._thread, self._sock
        if thread is None or sock is None:
            return
        self._stopping.set()
        host, port = self.address
        wake = "127.0.0.1" if host == "0.0.0.0" else host
        # The 1 s receive timeout ends the thread anyway if this wake-up is lost.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, suppress(OSError):
            s.sendto(b"", (wake, port))
        thread.join(timeout=3.0)
        sock.close()
        self._thread = None
        self._sock = None

    def _run(self) -> None:
        assert self._sock is not None
        sock = self._sock
        while not self._stopping.is_set():
            try:
                data, sender = sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError as e:
                self._count(["receive_error"], [("receive_error", str(e))])
                self._stopping.wait(0.05)  # never spin on a persistent error
                continue
            if self._stopping.is_set():
                break
            try:
                self._handle(data, sender)
            except Exception as e:  # the last guard: a bug here must not end control
                self._count(["handler_error"], [("handler_error", f"{type(e).__name__}: {e}")])

    def _handle(self, data: bytes, sender: tuple[str, int]) -> None:
        if not data:
            self._count(["datagrams", "empty"], [])
            return
        out = self.router.handle(data, sender[0])
        self._count(out.counts, out.notes)  # before any effect, so a reader never sees less
        after = Effects()
        for event in out.events:
            try:
                self.inbox.put_nowait(event)
            except queue.Full:
                after.counts.append("inbox_full")
                after.notes.append(("inbox_full", f"dropped {event!r}"))
        to = (sender[0], self.reply_port or sender[1])
        for address, args in out.replies:
            try:
                self._sock.sendto(encode_message(address, args), to)  # type: ignore[union-attr]
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

    def _log(self, reason: str, detail: str) -> None:
        """Log a reason at most once per LOG_EVERY_S, saying how many were held back."""
        now = time.monotonic()
        last, held = self._logged.get(reason, (-math.inf, 0))
        if now - last < LOG_EVERY_S:
            self._logged[reason] = (last, held + 1)
            return
        self._logged[reason] = (now, 0)
        more = f" (and {held} more since the last report)" if held else ""
        log.warning("OSC control %s: %s%s", reason.replace("_", " "), detail, more)
