"""Reading a status file and saying it in words, whatever the file holds.

The file may be damaged or hostile: read_status refuses anything that is not a regular
file within STATUS_LIMIT, nests too deep or is not a status object, with one sentence
naming the file; format_status never raises on any JSON value in any field and prints
only printable text of bounded length (a status file cannot drive the terminal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from installation.ops.status_sections import clock_time, duration, number, section_line, text
from installation.storage.bounded import MIB, Damage, loads_bounded, read_bounded

STALE_AFTER_S = 10.0
# A status is a few KiB (20 errors, 64 kinds, a section per part); 1 MiB is generous.
STATUS_LIMIT = 1 * MIB
MAX_DEPTH = 32  # the board writes 6 levels
MAX_CONTAINERS = 50_000
MAX_SECTIONS = 40
MAX_ERRORS = 64


class StatusProblem(ValueError):
    """A status file that cannot be used; the text names the file and what is wrong."""


def read_status(path: Path) -> dict[str, Any]:
    """The status file as a dict. FileNotFoundError when there is none; StatusProblem (a
    ValueError) naming the file for anything else. Bounded in size and time."""
    try:
        raw = read_bounded(Path(path), STATUS_LIMIT)
        data = loads_bounded(raw, MAX_DEPTH, MAX_CONTAINERS, constants=True)
    except Damage as e:
        raise StatusProblem(f"{path}: not a status file (it {e})") from None
    if not isinstance(data, dict) or "written_at" not in data:
        raise StatusProblem(f"{path}: not a status file (expected a JSON object with 'written_at')")
    return data


def status_age(status: Mapping[str, Any], now_wall: float) -> float | None:
    """Seconds since the file was written, None without a usable time stamp."""
    written = number(status.get("written_at"))
    if written is None:
        return None
    age = now_wall - written
    return age if math.isfinite(age) else None


def _ms(value: object) -> str:
    v = number(value)
    return f"{v:.0f} ms" if v is not None else "-"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _age_line(status: Mapping[str, Any], now_wall: float) -> str:
    age = status_age(status, now_wall)
    written = clock_time(status.get("written_at"))
    if status.get("state") == "stopped":
        return f"the kiosk STOPPED at {written} (a clean exit): nothing runs"
    if age is None:
        return "WARNING: the status has no time stamp"
    if age < -STALE_AFTER_S:
        return f"WARNING: written in the future ({written}): has the clock changed?"
    if age > STALE_AFTER_S:
        return (
            f"WARNING: written {duration(age)} ago (at {written}):"
            " the kiosk is NOT running (or cannot write its status)"
        )
    return f"written {max(age, 0):.0f} s ago: the kiosk is running"


def format_status(status: Mapping[str, Any], now_wall: float | None = None) -> str:
    """A few lines for a technician: one per part. With now_wall, says how old the file
    is and warns when it is stale (the kiosk is not running). Never raises."""
    if not isinstance(status, Mapping):
        return f"not a status: {text(status)}"
    lines = [] if now_wall is None else [_age_line(status, now_wall)]
    lat = _mapping(status.get("latency_ms"))
    uptime = number(status.get("uptime_s"))
    lines += [
        f"show      {text(status.get('show')) or '?'}  (pid {text(status.get('pid'), 20)})",
        f"state     {text(status.get('state'), 40) or '?'}"
        f"   engine {text(status.get('engine'), 40) or '?'}",
        f"uptime    {duration(uptime) if uptime is not None else '?'}"
        f"   since {clock_time(status.get('started_at'))}",
        f"frames    {text(status.get('frames', 0), 20)}   fps {text(status.get('fps', 0), 20)}",
        f"latency   p50 {_ms(lat.get('p50'))}   p95 {_ms(lat.get('p95'))}"
        f"   last {_ms(lat.get('last'))}   over {text(lat.get('count', 0), 20)} throws",
    ]
    throw = status.get("last_throw")
    if isinstance(throw, Mapping):
        faces = throw.get("faces")
        shown = "-".join(text(f, 6) for f in faces[:16]) if isinstance(faces, list) else "?"
        lines.append(
            f"throw     {shown} from {text(throw.get('source'), 40) or '?'}"
            f" at {clock_time(throw.get('at'))}"
        )
    elif throw:
        lines.append(f"throw     {text(throw)}")
    variation = status.get("last_variation")
    if isinstance(variation, Mapping):
        items = [(k, v) for k, v in variation.items() if k != "at"][:12]
        lines.append("showing   " + "  ".join(f"{text(k, 20)} {text(v, 60)}" for k, v in items))
    lines += _sections(status.get("sections"))
    faults = status.get("faults")
    if isinstance(faults, Mapping) and faults:
        pairs = [f"{text(k, 40)}={text(v, 20)}" for k, v in list(faults.items())[:MAX_SECTIONS]]
        lines.append("faults    " + "  ".join(pairs))
    lines += _errors(status.get("errors"), status.get("last_error_by_kind"))
    return "\n".join(lines)


def _sections(sections: object) -> list[str]:
    if not isinstance(sections, Mapping):
        return [] if sections is None else [f"sections  {text(sections)}"]
    items = list(sections.items())
    lines = [section_line(str(name), info) for name, info in items[:MAX_SECTIONS]]
    if len(items) > MAX_SECTIONS:
        lines.append(f"          ... and {len(items) - MAX_SECTIONS} more sections (see --json)")
    return lines


def _error_line(e: object) -> str:
    if not isinstance(e, Mapping):
        return f"  {text(e)}"
    kind, message = text(e.get("kind"), 40), text(e.get("message"), 300)
    return f"  {clock_time(e.get('at'))} {kind}: {message}"


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _errors(errors: object, by_kind: object) -> list[str]:
    recent = errors if isinstance(errors, list) else []
    lines = []
    if recent:
        lines.append(f"last {len(recent)} errors:")
        lines += [_error_line(e) for e in recent[-MAX_ERRORS:]]
    kinds = {e.get("kind") for e in recent if isinstance(e, Mapping) and _is_text(e.get("kind"))}
    older = [
        e
        for k, e in (by_kind.items() if isinstance(by_kind, Mapping) else ())
        if k not in kinds and isinstance(e, Mapping)
    ]
    if older:
        lines.append("earlier, the last of each other kind:")
        lines += [_error_line(e) for e in older[:MAX_ERRORS]]
    return lines
