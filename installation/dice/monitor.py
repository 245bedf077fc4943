"""`installation dice monitor`: a live text view of each die, committed throws and error counters.

Runs a real DiceLink, so what a technician sees is exactly what the show would get.
A port held by another process (the kiosk reading the dice) ends the monitor at
once with one line naming that process, and exit status 1.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from installation.core.events import DiceRolling, InboxEvent, ThrowCancelled, ThrowCommitted
from installation.dice.serial import DiceLink

CLEAR = "\x1b[H\x1b[2J"
BUSY = 1  # exit status when another process holds a port


def describe(ev: InboxEvent) -> str | None:
    """One line for the monitor's history, or None for events it does not list."""
    if isinstance(ev, DiceRolling):
        return "rolling"
    if isinstance(ev, ThrowCommitted):
        return f"THROW {ev.throw.key}"
    if isinstance(ev, ThrowCancelled):
        return f"cancelled: {ev.reason}"
    return None


def render(status: dict[str, Any], snapshot: dict[str, Any], history: list[str]) -> str:
    """The whole screen as text: ports, dice, recent throws, counters."""
    lines = []
    for p in status["ports"]:
        state = "connected" if p["connected"] else "DISCONNECTED"
        fw = f" firmware {p['firmware']}, {p['dice']} dice" if p["firmware"] else ""
        lines.append(f"{p['port']} ({p['device'] or '?'}): {state}{fw}")
        if p["last_error"]:
            lines.append(f"  last error: {p['last_error']}")
        if p.get("device_error"):
            lines.append(f"  device error: {p['device_error']} ({p['device_errors']}x)")
        gone = p.get("last_disconnect")
        if gone:
            lines.append(f"  last disconnect: {gone['reason']} at {_clock(gone['at'])}")
        drops = ", ".join(f"{k} {v}" for k, v in sorted(p["dropped"].items())) or "none"
        tries = f", retries {p['retries']}" if p.get("retries") else ""
        lines.append(f"  dropped: {drops}; reconnects {p['reconnects']}{tries}")
    dice = "  ".join(
        f"die {d['die']}: {d['state'] or '?'}{' ' + str(d['face']) if d['face'] else ''}"
        for d in snapshot["dice"]
    )
    lines.append(dice + ("   [throw open]" if snapshot["throw_open"] else ""))
    lines += [f"  {h}" for h in history[-8:]]
    return "\n".join(lines) + "\n"


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def busy(status: dict[str, Any]) -> str | None:
    """The first port another process holds, as one line for the technician."""
    for p in status["ports"]:
        if p.get("busy"):
            device = f" ({p['device']})" if p["device"] and p["device"] != p["port"] else ""
            return (
                f"{p['port']}{device} is {p['busy']}. Only one program can read the dice at a "
                "time: if that is the kiosk, its status shows them (installation status SHOW), "
                "or stop it first (sudo systemctl stop installation)."
            )
    return None


def run(
    link: DiceLink,
    inbox: queue.Queue[Any],
    out: TextIO,
    *,
    duration: float | None = None,
    refresh_s: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    err: TextIO = sys.stderr,
) -> int:
    """Show the link until interrupted (or `duration` passes). Redraws only on change.

    Returns 0, or BUSY at once (with one line on `err`) when a port is held elsewhere."""
    history: list[str] = []
    shown = ""
    end = None if duration is None else clock() + duration
    link.start()
    try:
        while end is None or clock() < end:
            try:
                ev = inbox.get(timeout=refresh_s)
                text = describe(ev)
                if text:
                    history.append(f"{time.strftime('%H:%M:%S')} {text}")
            except queue.Empty:
                pass
            status = link.status()
            held = busy(status)
            if held:
                err.write(f"error: {held}\n")
                err.flush()
                return BUSY
            screen = render(status, link.snapshot(), history)
            if screen != shown:
                out.write((CLEAR if out.isatty() else "") + screen)
                out.flush()
                shown = screen
    except KeyboardInterrupt:
        pass
    finally:
        link.stop()
    return 0
