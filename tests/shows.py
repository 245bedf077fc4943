"""Show folders for tests: one small valid show.toml, and what each test changes in it.

BASE is the show most tests run: 2 dice of 6 faces, 64x64 pictures, a 160x120 window
without fades, no OSC listener. A test names only what it changes: a table given as a
dict is merged key by key into BASE's (a new table is added), None drops a key or a
whole table, and `extra` is TOML appended as written (tables of tables, comments).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

Table = Mapping[str, object]

BASE: dict[str, Table] = {
    "show": {"name": "t"},
    "dice": {"count": 2, "faces": 6},
    "variations": {"prompt": "flat", "width": 64, "height": 64},
    "display": {"fullscreen": False, "window_size": [160, 120], "transition_ms": 0},
    "osc": {"listen": ""},
}


def show_toml(extra: str = "", **tables: Table | None) -> str:
    """BASE with `tables` merged in (see the module doc), then `extra`."""
    merged = {name: dict(table) for name, table in BASE.items()}
    for name, table in tables.items():
        if table is None:
            merged.pop(name, None)
            continue
        into = merged.setdefault(name, {})
        for key, value in table.items():
            if value is None:
                into.pop(key, None)
            else:
                into[key] = value
    lines = []
    for name, table in merged.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n" + extra


def write_show(folder: Path, extra: str = "", **tables: Table | None) -> Path:
    """`folder` (created with its parents) holding show_toml(extra, **tables)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "show.toml").write_text(show_toml(extra, **tables), "utf-8")
    return folder


def _value(value: object) -> str:
    """A TOML value: booleans, numbers, strings (and paths) and lists of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r} ({type(value).__name__})")
