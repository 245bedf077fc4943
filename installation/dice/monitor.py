"""`installation dice monitor`: a live text view of each die, committed throws and error counters.

Runs a real DiceLink, so what a technician sees is exactly what the show would get.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any, TextIO

from installation.core.events import DiceRolling, InboxEvent, ThrowCancelled, ThrowCommitted
from installation.dice.serial import DiceLink

CLEAR = "\x1b[H\x1b[2J"


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
        drops = ", ".join(f"{k} {v}" for k, v in sorted(p["dropped"].items())) or "none"
        lines.append(f"  dropped: {drops}; reconnects {p['reconnects']}")
    dice = "  ".join(
        f"die {d['die']}: {d['state'] or '?'}{' ' + str(d['face']) if d['face'] else ''}"
        for d in snapshot["dice"]
    )
    lines.append(dice + ("   [throw open]" if snapshot["throw_open"] else ""))
    lines += [f"  {h}" for h in history[-8:]]
    return "\n".join(lines) + "\n"


def run(
    link: DiceLink,
    inbox: queue.Queue[Any],
    out: TextIO,
    *,
    duration: float | None = None,
    refresh_s: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Show the link until interrupted (or `duration` passes). Redraws only on change."""
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
            screen = render(link.status(), link.snapshot(), history)
            if screen != shown:
                out.write((CLEAR if out.isatty() else "") + screen)
                out.flush()
                shown = screen
    except KeyboardInterrupt:
        pass
    finally:
        link.stop()
    return 0
