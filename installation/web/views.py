"""The wall at a glance: the status snapshot turned into short lines a technician reads.

One flat dict of strings (and the error list): the wall page renders it, and the live
updates (server-sent events) send it again, so the page and the stream never disagree.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from typing import Any

from installation.show.schema import Show

DEGRADED_ENGINES = ("fallback", "stopped", "")


def _ms(v: object) -> str:
    return f"{v:.0f} ms" if isinstance(v, int | float) else "-"


def _clock(ts: object) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if isinstance(ts, int | float) else "-"


def hours_line(show: Show, sections: dict[str, Any], now: datetime | None = None) -> str:
    """'open until 18:00 (Tue)', 'closed, opens 10:00 (Wed)', with any override."""
    hours = sections.get("hours") or {}
    override = hours.get("override")
    if show.schedule is None:
        line = "always open (no [schedule])"
    else:
        schedule = show.schedule.build()
        now = now or datetime.now(UTC)
        phase = schedule.phase_at(now)
        change = schedule.next_change(now)
        when = change.astimezone(schedule.zone).strftime("%H:%M (%a %d %b)") if change else ""
        line = f"{phase}" + (f", changes at {when}" if when else ", no change ahead")
    if isinstance(override, dict):
        until = override.get("until")
        end = f" until {until}" if until else ""
        line = f"OVERRIDE: {override.get('phase')}{end} (the schedule says: {line})"
    return line


def free_disk(show: Show) -> str:
    try:
        usage = shutil.disk_usage(show.storage_dir)
    except OSError as e:
        return f"unknown ({e.strerror or e})"
    return f"{usage.free / 1e9:.1f} GB free of {usage.total / 1e9:.1f} GB"


def wall_view(snapshot: dict[str, Any], show: Show) -> dict[str, Any]:
    s = snapshot
    sections: dict[str, Any] = s.get("sections") or {}
    lat = s.get("latency_ms") or {}
    throw = s.get("last_throw") or {}
    var = s.get("last_variation") or {}
    worker = sections.get("worker") or {}
    cache = sections.get("cache") or {}
    dice = sections.get("dice")
    engine = str(s.get("engine") or worker.get("engine") or "")
    projectors = sections.get("projectors") or {}
    return {
        "state": str(s.get("state", "?")),
        "hours": hours_line(show, sections),
        "throw": "-".join(map(str, throw.get("faces", [])))
        + (f" from {throw.get('source')} at {_clock(throw.get('at'))}" if throw else "none yet"),
        "variation": (
            f"#{var.get('number')} {var.get('key', '')} seed {var.get('seed')} "
            f"at {_clock(var.get('at'))}"
            if var
            else "none yet"
        ),
        "variation_id": f"{var.get('key', '')}-{var.get('number', '')}-{var.get('at', '')}",
        "engine": engine or "?",
        "degraded": "yes: " + (engine or "no engine")
        if engine in DEGRADED_ENGINES or not worker.get("alive", True)
        else "no",
        "fps": f"{s.get('fps', 0)}",
        "latency": f"p50 {_ms(lat.get('p50'))} · p95 {_ms(lat.get('p95'))} "
        f"over {lat.get('count', 0)}",
        "dice": "no serial dice"
        if dice is None
        else ("connected" if dice.get("connected") else "NOT connected")
        + f" ({len(dice.get('ports', []))} port(s))",
        "worker": f"{worker.get('state', '?')}, restarts {worker.get('restarts', 0)}, "
        f"queued {worker.get('queued', 0)}"
        if worker
        else "-",
        "cache": f"{100 * float(cache.get('fill', 0)):.0f}% full, {cache.get('entries', 0)} "
        f"outcomes, hits {cache.get('hits', 0)} misses {cache.get('misses', 0)}"
        if cache
        else "no cache",
        "projectors": _projectors(projectors),
        "disk": free_disk(show),
        "uptime": f"{s.get('uptime_s', 0)} s",
        "errors": [
            f"{_clock(e.get('at'))} {e.get('kind')}: {e.get('message')}"
            for e in reversed(s.get("errors") or [])
        ][:10],
    }


def _projectors(info: dict[str, Any]) -> str:
    """{name: {power, wanted, error}} (ops/pjlink.py's status) as one line."""
    if not info:
        return "none configured"
    parts = []
    for name, p in info.items():
        if isinstance(p, dict):
            err = f" ({p.get('error')})" if p.get("error") else ""
            parts.append(f"{name}: {p.get('power')}, wanted {p.get('wanted')}{err}")
    return ", ".join(parts)
