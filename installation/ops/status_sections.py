"""One readable line per part of the status (worker, display, dice, osc ...).

Each known section has a short sentence; anything else (a new part, a field of an
unexpected type) falls back to a generic `key value` line. Nothing here raises on any
JSON value, and every piece of text is made printable and cut to length.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from installation.storage.bounded import size_text

LINE_LIMIT = 240


def printable(value: str) -> str:
    """Control, format (bidi overrides, zero width), separator, surrogate and unassigned
    characters as '?': a status file cannot move the cursor or reorder a line."""
    return value if value.isprintable() else "".join(c if c.isprintable() else "?" for c in value)


def number(value: object) -> float | None:
    """A finite number, else None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return float(value) if abs(value) < 2**63 else None
    return value if math.isfinite(value) else None


def text(value: object, limit: int = 80) -> str:
    """Any JSON value as short, printable text: '' for None, 'yes'/'no' for booleans."""
    if value is None:
        out = ""
    elif isinstance(value, bool):
        out = "yes" if value else "no"
    elif isinstance(value, str):
        out = printable(value[: limit + 1])
    elif isinstance(value, int):
        out = str(value) if abs(value) < 10**30 else "(a huge number)"
    elif isinstance(value, float):
        out = f"{value:g}"
    elif isinstance(value, list):
        out = ", ".join(text(v, 20) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        out = f"[{out}]"
    elif isinstance(value, Mapping):
        out = "{" + ", ".join(f"{text(k, 20)}={text(v, 20)}" for k, v in list(value.items())[:6])
        out += ", ...}" if len(value) > 6 else "}"
    else:
        out = type(value).__name__
    return out if len(out) <= limit else out[: max(limit - 3, 0)] + "..."


def duration(seconds: float) -> str:
    """'1h 2m 5s', '3d 4h 0m'; '?' for nonsense."""
    if not math.isfinite(seconds) or abs(seconds) > 10**10:
        return "?"
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"


def clock_time(ts: object) -> str:
    """A Unix time as local '2026-01-31 14:22:33', '?' for nonsense."""
    value = number(ts)
    if value is None:
        return "?"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
    except (OverflowError, OSError, ValueError):
        return "?"


class Fields:
    """Typed, never-raising access to one section's fields."""

    def __init__(self, info: Mapping[str, Any]) -> None:
        self.info = info

    def n(self, key: str) -> str:
        """A count or measure as text ('?' when missing or not a number)."""
        v = number(self.info.get(key))
        if v is None:
            return "?"
        return str(int(v)) if v == int(v) and abs(v) < 10**15 else f"{v:.3g}"

    def t(self, key: str, limit: int = 60) -> str:
        return text(self.info.get(key), limit)

    def on(self, key: str) -> bool:
        return self.info.get(key) is True

    def off(self, key: str) -> bool:
        return self.info.get(key) is False

    def num(self, key: str) -> float:
        return number(self.info.get(key)) or 0.0

    def size(self, key: str) -> str:
        v = number(self.info.get(key))
        return size_text(int(v)) if v is not None and v >= 0 else "?"

    def map(self, key: str) -> Mapping[str, Any]:
        v = self.info.get(key)
        return v if isinstance(v, Mapping) else {}

    def counts(self, *names: str) -> str:
        """'4 renders, 0 failures' for the fields present ('renders', 'failures')."""
        return ", ".join(
            f"{self.n(k)} {k.replace('_', ' ')}"
            for k in names
            if number(self.info.get(k)) is not None
        )

    def nonzero(self, key: str) -> str:
        """'a=1 b=2' for the non-zero counters in a mapping, '' when there are none."""
        pairs = [(k, number(v)) for k, v in list(self.map(key).items())[:12]]
        return " ".join(f"{text(k, 30)}={text(v)}" for k, v in pairs if v)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def worker(f: Fields) -> str:
    where = f" (pid {f.n('pid')})" if f.n("pid") != "?" else ""
    head = f"{f.t('engine', 30) or '?'} {f.t('state', 30) or '?'}{where}"
    if f.off("alive"):
        head = f"NOT running ({f.t('state', 30) or '?'})"
    busy = f"rendering {f.t('in_flight', 30)}" if f.on("busy") else "idle"
    beat = f.n("last_heartbeat_age_s")
    return _join(
        head,
        f"{busy}, {f.n('queued')} queued" if "queued" in f.info else busy,
        f.counts("renders", "failures", "restarts"),
        f"heartbeat {beat} s ago" if beat != "?" else "",
    )


def display(f: Fields) -> str:
    size = f.info.get("size")
    screen = "x".join(text(v, 6) for v in size[:2]) if isinstance(size, list) else "?"
    banner = f.t("banner", 80)
    return _join(
        f"{f.n('fps')} fps, frame p50 {f.n('frame_ms_p50')} ms, p99 {f.n('frame_ms_p99')} ms,"
        f" longest gap {f.n('longest_gap_ms')} ms",
        f"{screen} on {f.t('driver', 20) or '?'}, {f.t('state', 30) or '?'}",
        f"banner: {banner}" if banner else "",
        "error overlay shown" if f.on("overlay") else "",
        f"{f.n('ignored_keys')} keys ignored" if f.num("ignored_keys") else "",
    )


def _moment(entry: object) -> str:
    if not isinstance(entry, Mapping):
        return ""
    what = text(entry.get("reason") or entry.get("device") or entry.get("port"), 80)
    return f"{clock_time(entry.get('at'))} {what}".strip()


def _ports(f: Fields) -> list[Mapping[str, Any]]:
    ports = f.info.get("ports")
    return [p for p in ports if isinstance(p, Mapping)] if isinstance(ports, list) else []


def dice(f: Fields) -> str:
    ports = _ports(f)
    problems = [
        f"{text(p.get('port'), 40)}: {text(p.get('busy') or p.get('last_error'), 80)}"
        for p in ports
        if (p.get("busy") or p.get("last_error")) and not p.get("connected")
    ]
    on = f.info.get("connected_ports") if f.on("connected") else None
    names = on if isinstance(on, list) and on else [p.get("port") for p in ports]
    where = ", ".join(text(n, 40) for n in names[:4])
    what = f"{f.n('dice')} x d{f.n('faces')}" if "dice" in f.info and "faces" in f.info else ""
    if f.on("connected"):
        head = " ".join(filter(None, ["connected", what, f"on {where}" if where else ""]))
    else:
        detail = ", ".join(filter(None, [what, where]))
        head = "NOT connected" + (f" ({detail})" if detail else "")
    gone = _moment(f.info.get("last_disconnect"))
    return _join(
        head,
        f.counts("reconnects", "device_errors"),
        f"dropped {f.nonzero('dropped')}" if f.nonzero("dropped") else "",
        f"last disconnect {gone}" if gone else "",
        *problems[:4],
    )


def osc(f: Fields) -> str:
    health = "" if f.info.get("healthy") in (True, None) else "NOT healthy"
    return _join(f"listening on {f.t('listen', 60) or '?'}", health, f.nonzero("counters"))


def cues(f: Fields) -> str:
    targets = []
    for name, t in list(f.map("targets").items())[:8]:
        if isinstance(t, Mapping):
            g = Fields(t)
            state = f"DOWN: {g.t('last_error', 80)}" if g.on("down") else f"{g.n('sent')} sent"
            targets.append(f"{text(name, 30)} {g.t('address', 50)} {state}")
    return _join(f.counts("sent", "errors", "dropped", "queued"), ", ".join(targets))


def cache(f: Fields) -> str:
    fill = number(f.info.get("fill"))
    return _join(
        f"{f.n('hits')} hits ({f.n('memory_hits')} memory, {f.n('disk_hits')} disk),"
        f" {f.n('misses')} misses",
        f"{f.n('memory_entries')} in memory ({f.size('memory_bytes')}),"
        f" {f.n('disk_entries')} on disk ({f.size('disk_bytes')})"
        + (f", {fill:.0%} full" if fill is not None else ""),
        f"pre-rendering ({f.n('prefilled')} done)" if f.on("prefilling") else "",
        "disk PAUSED (full)" if f.on("disk_paused") else "",
        f"{f.n('disk_errors')} disk errors" if f.num("disk_errors") else "",
        f"{f.n('corrupt')} corrupt files" if f.num("corrupt") else "",
    )


def archive(f: Fields) -> str:
    if f.off("enabled"):
        return "off"
    return _join(
        f.counts("saved", "files") + (f" ({f.size('bytes')})" if "bytes" in f.info else ""),
        f.counts("dropped", "errors", "pruned"),
        "PAUSED (disk full)" if f.on("paused") else "",
        f"{f.n('queued')} queued" if f.num("queued") else "",
    )


def hours(f: Fields) -> str:
    phase, scheduled = f.t("phase", 20) or "?", f.t("scheduled", 20)
    override = Fields(f.map("override"))
    return _join(
        phase + (f" (the schedule says {scheduled})" if scheduled and scheduled != phase else ""),
        f"next change {f.t('next_change', 40)}" if f.info.get("next_change") else "",
        f"override {override.t('phase', 20)} until {override.t('until', 40)}"
        f" from {override.t('source', 30)}"
        if override.info
        else "",
    )


def projectors(f: Fields) -> str:
    out = []
    for name, p in list(f.info.items())[:8]:
        if not isinstance(p, Mapping):
            out.append(f"{text(name, 30)} {text(p, 60)}")
            continue
        g = Fields(p)
        error = g.t("error", 80)
        out.append(
            f"{text(name, 30)} {g.t('host', 50)} power {g.t('power', 20) or '?'}"
            f" (wanted {g.t('wanted', 20) or '?'})"
            + (f" ERROR {error} ({g.n('failures')} failures)" if error else "")
        )
    return _join(*out)


def web(f: Fields) -> str:
    state = f"on {f.t('listen', 60) or '?'}" if not f.off("running") else "NOT running"
    return _join(
        f"{state}, {f.n('sessions')} signed in",
        f"error: {f.t('error', 100)}" if f.info.get("error") else "",
        f"users file: {f.t('users_file_error', 100)}" if f.info.get("users_file_error") else "",
    )


def app(f: Fields) -> str:
    return _join(
        f"counters {f.nonzero('counters') or 'none'}",
        f"inbox {f.nonzero('inbox')}" if f.nonzero("inbox") else "",
    )


def watcher(f: Fields) -> str:
    error = f.t("last_error", 120)
    return _join(
        f"{f.n('reloads')} reloads, {f.n('refused')} refused",
        f"last refusal: {error}" if error else "",
    )


KNOWN: dict[str, Callable[[Fields], str]] = {
    "worker": worker,
    "display": display,
    "dice": dice,
    "osc": osc,
    "cues": cues,
    "cache": cache,
    "archive": archive,
    "hours": hours,
    "projectors": projectors,
    "web": web,
    "app": app,
    "show-watcher": watcher,
}


def generic(info: object) -> str:
    """`key value` pairs for a part this reader does not know (or whose fields are odd)."""
    if not isinstance(info, Mapping):
        return text(info, LINE_LIMIT)
    pairs = [f"{text(k, 30)} {text(v, 60)}" for k, v in list(info.items())[:16]]
    return "  ".join(pairs) + ("  ..." if len(info) > 16 else "")


def section_line(name: str, info: object) -> str:
    """'worker    fallback ready (pid 12); idle, 0 queued; ...', cut to LINE_LIMIT."""
    body = ""
    known = KNOWN.get(name)
    if known is not None and isinstance(info, Mapping):
        try:
            body = known(Fields(info))
        except Exception:  # a field of a shape no formatter expects: say it plainly
            body = ""
    body = body or generic(info)
    line = f"{text(name, 20):<9} {body}"
    return line if len(line) <= LINE_LIMIT else line[: LINE_LIMIT - 3] + "..."
