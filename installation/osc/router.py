"""The pure part of OSC remote control: datagram bytes and the sender's IP in, inbox
events, replies and counter reasons out (`Routed`). Tested without sockets; the UDP
transport around it is osc/control.py.

Every datagram is decoded by osc/datagrams.py under its bounds (size, nesting,
elements, arguments, a time budget), never by python-osc, so nothing that arrives can
stall the caller. Bundle timetags are ignored: messages act on arrival. One datagram
gets at most one status reply, however many status requests it bundles.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from installation.core.dice import Throw
from installation.core.events import (
    Blackout,
    HoursOverride,
    InboxEvent,
    RandomThrow,
    ReloadShow,
    Resume,
    ThrowCommitted,
)
from installation.core.hours import parse_duration
from installation.osc import addresses as A
from installation.osc import datagrams as D

MAX_REASON = 300  # characters of an error reply
MAX_STATUS_BYTES = 8192  # the largest status reply (the reply budget's burst)

_TRIGGERS: dict[str, Callable[[], InboxEvent]] = {
    A.ROLL: lambda: RandomThrow("osc"),
    A.BLACKOUT: lambda: Blackout("osc"),
    A.RESUME: lambda: Resume("osc"),
    A.RELOAD: lambda: ReloadShow("osc"),
    A.SCHEDULE: lambda: HoursOverride(None, None, "osc"),
}
_OVERRIDES = {A.OPEN: "open", A.CLOSE: "closed"}


@dataclass
class Routed:
    """What one datagram caused: events for the inbox, replies, counter reasons, notes
    (reason, detail) to log. `allowed`: the sender may control (and earns reply credit)."""

    events: list[InboxEvent] = field(default_factory=list)
    replies: list[tuple[str, list[Any]]] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    allowed: bool = True


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


def status_json(status: dict[str, Any]) -> str:
    """The status as compact JSON (sorted keys, no spaces): the /installation/status reply."""
    return json.dumps(status, sort_keys=True, separators=(",", ":"), default=str)


class ControlRouter:
    """Pure control logic: who may talk, what each address does, what to reply."""

    def __init__(
        self,
        allow: Sequence[str],
        status: Callable[[], dict[str, Any]],
        *,
        dice: int,
        faces: int,
        limits: D.Limits = D.CONTROL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allow = A.parse_allow(allow)
        self.status = status
        self.dice = dice
        self.faces = faces
        self.limits = limits
        self.clock = clock

    def handle(self, data: bytes, sender_ip: str) -> Routed:
        out = Routed(counts=["datagrams"])
        if not A.is_allowed(sender_ip, self.allow):
            out.allowed = False
            out.counts.append("not_allowed")
            out.notes.append(("not_allowed", f"ignored a datagram from {sender_ip}"))
            return out
        started = self.clock()
        try:
            messages = D.decode(data, self.limits, clock=self.clock)
        except D.DatagramError as e:
            if e.kind == "too_large":
                reason = "too_large"
                out.counts.append(reason)
            else:
                reason = f"malformed_{e.kind}"
                out.counts += ["malformed", reason]
            out.notes.append((reason, f"{len(data)} bytes from {sender_ip}: {e.detail}"))
            return out
        status_asked = False
        for i, message in enumerate(messages):
            if i and self.clock() - started > self.limits.budget_s:
                out.counts.append("over_budget")
                out.notes.append(("over_budget", f"{len(messages) - i} message(s) not handled"))
                break
            status_asked = self._message(message.address, list(message.args), out, status_asked)
        return out

    def _message(self, address: str, params: list[Any], out: Routed, status_asked: bool) -> bool:
        """Handle one message; returns whether this datagram has asked for the status."""
        out.counts.append("messages")
        if address == A.THROW:
            try:
                faces = parse_faces(params, self.dice, self.faces)
            except ValueError as e:
                self._bad(out, address, str(e))
                return status_asked
            out.events.append(ThrowCommitted(Throw(faces, source="osc")))
        elif address in _OVERRIDES and params and isinstance(params[0], str):
            try:  # a duration ('2h'); a number would be a button's 1 or 0
                seconds = parse_duration(params[0])
            except ValueError as e:
                self._bad(out, address, str(e))
                return status_asked
            out.events.append(HoursOverride(_OVERRIDES[address], seconds, "osc"))
        elif address in _OVERRIDES:
            if not self._fires(out, address, params, "send nothing, 1, or a duration like '2h'"):
                return status_asked
            out.events.append(HoursOverride(_OVERRIDES[address], None, "osc"))
        elif address in _TRIGGERS or address == A.STATUS:
            if not self._fires(out, address, params, "send no arguments, or 1 to fire"):
                return status_asked
            if address == A.STATUS:
                if status_asked:  # one status reply per datagram, however many it asks
                    out.counts += ["commands", "replies_dropped"]
                    return True
                self._status(out)
                status_asked = True
            else:
                out.events.append(_TRIGGERS[address]())
        elif address == A.PING:
            echo = [p for p in params[:8] if isinstance(p, int | float | str)]
            out.replies.append((A.PONG, echo))
        else:
            out.counts.append("unknown_address")
            out.notes.append(("unknown_address", _short(address)))
            return status_asked
        out.counts.append("commands")
        return status_asked

    def _fires(self, out: Routed, address: str, params: list[Any], accepted: str) -> bool:
        """A button's press (nothing, or 1) fires; its release (0) is counted; anything
        else is refused with what is accepted."""
        fires = trigger_fires(params)
        if fires is None:
            got = ", ".join(_short(p) for p in params[:5])
            self._bad(out, address, f"got [{got}]; {accepted}")
        elif not fires:
            out.counts.append("released")
        return bool(fires)

    def _status(self, out: Routed) -> None:
        try:
            text = status_json(self.status())
        except Exception as e:
            self._bad(out, A.STATUS, f"status unavailable: {type(e).__name__}: {e}")
            out.counts.append("status_failed")
            return
        size = len(text.encode("utf-8"))
        if size > MAX_STATUS_BYTES:
            limit = f"{size} bytes, limit {MAX_STATUS_BYTES}"
            self._bad(out, A.STATUS, f"status too large ({limit}); read the status file")
            return
        out.replies.append((A.STATUS, [text]))

    def _bad(self, out: Routed, address: str, reason: str) -> None:
        reason = f"{address}: {reason}"[:MAX_REASON]
        out.counts.append("bad_args")
        out.notes.append(("bad_args", reason))
        out.replies.append((A.ERROR, [address, reason]))
